// LinkConfigurator: the few rtnetlink requests a client needs to bring its
// tun up (MTU, IFF_UP, addresses, device routes), sent with libmnl rather
// than by running `ip`, so no external tool is needed and every failure
// carries the kernel's own reason.
//
// A netlink socket talks to the network namespace it was opened in: create
// the configurator while the calling thread is inside the target namespace
// (see NetnsGuard). Requests are synchronous (each waits for its ACK).
#pragma once

#include <optional>

#include "wire/ip_prefix.hpp"
#include "io/socket.hpp"
#include "wire/ip_address.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace rtether::device {

class LinkConfigurator {
 public:
  // Throws std::runtime_error if the netlink socket cannot be opened.
  LinkConfigurator();
  ~LinkConfigurator();
  LinkConfigurator(const LinkConfigurator&) = delete;
  LinkConfigurator& operator=(const LinkConfigurator&) = delete;

  // Each throws std::runtime_error "netlink: <what>: <strerror>" on refusal.
  void set_mtu(int ifindex, int mtu);
  void set_tx_queue_length(int ifindex, int packets);
  void set_up(int ifindex);
  void add_address(int ifindex, const wire::IpAddress& address, int prefix_length);
  // A route through the device itself (no gateway), e.g. 0.0.0.0/0 dev tun.
  // Host bits past the prefix length are cleared, as the kernel requires.
  // `replace`: take the route over if it exists (`ip route replace`).
  void add_route(int ifindex, const wire::IpAddress& destination, int prefix_length,
                 bool replace = false);
  // A route through `gateway` on the device (`ip route replace PREFIX via
  // GATEWAY dev DEV`; on-link without a gateway), replacing one to the same
  // prefix; and its removal (false: it was not there).
  void replace_gateway_route(int ifindex, const wire::IpPrefix& destination,
                             const std::optional<wire::IpAddress>& gateway);
  bool delete_gateway_route(int ifindex, const wire::IpPrefix& destination,
                            const std::optional<wire::IpAddress>& gateway);

 private:
  void set_link_attribute(int ifindex, std::uint16_t attribute, std::uint32_t value,
                          const std::string& what);
  void request(nlmsghdr* message, const std::string& what);
  mnl_socket* socket_;
  unsigned port_id_;
  unsigned sequence_;
};

}  // namespace rtether::device
