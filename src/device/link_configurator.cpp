// rtnetlink requests (RFC 3549; linux/rtnetlink.h) built with libmnl; see
// link_configurator.hpp. Each request asks for an ACK so errors are reported
// where they happen, not discovered later as a missing route.
#include "device/link_configurator.hpp"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

namespace rtether::device {
namespace {

// Requests are a few hundred bytes; replies (ACKs, errors) fit a page.
constexpr std::size_t kMessageSize = 8192;

int family_of(const wire::IpAddress& address) {
  return address.version == wire::IpVersion::V4 ? AF_INET : AF_INET6;
}

std::string interface_label(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) return name;
  return "ifindex " + std::to_string(ifindex);
}

}  // namespace

LinkConfigurator::LinkConfigurator() : socket_(mnl_socket_open(NETLINK_ROUTE)) {
  if (socket_ == nullptr) {
    throw std::runtime_error(std::string("netlink: cannot open socket: ") + std::strerror(errno));
  }
  if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int saved = errno;
    mnl_socket_close(socket_);
    throw std::runtime_error(std::string("netlink: cannot bind: ") + std::strerror(saved));
  }
  port_id_ = mnl_socket_get_portid(socket_);
  sequence_ = static_cast<unsigned>(std::time(nullptr));
}

LinkConfigurator::~LinkConfigurator() { mnl_socket_close(socket_); }

void LinkConfigurator::request(nlmsghdr* message, const std::string& what) {
  message->nlmsg_seq = ++sequence_;
  message->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (mnl_socket_sendto(socket_, message, message->nlmsg_len) < 0) {
    throw std::runtime_error("netlink: " + what + ": " + std::strerror(errno));
  }
  std::vector<char> reply(kMessageSize);
  // One ACK (or error) per request; the loop only skips stray messages.
  for (int attempt = 0; attempt < 16; ++attempt) {
    ssize_t received = mnl_socket_recvfrom(socket_, reply.data(), reply.size());
    if (received < 0) throw std::runtime_error("netlink: " + what + ": " + std::strerror(errno));
    int result = mnl_cb_run(reply.data(), static_cast<size_t>(received), message->nlmsg_seq,
                            port_id_, nullptr, nullptr);
    if (result == MNL_CB_STOP) return;
    if (result < 0) throw std::runtime_error("netlink: " + what + ": " + std::strerror(errno));
  }
  throw std::runtime_error("netlink: " + what + ": no acknowledgement");
}

void LinkConfigurator::set_link_attribute(int ifindex, std::uint16_t attribute,
                                          std::uint32_t value, const std::string& what) {
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWLINK;
  auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = ifindex;
  mnl_attr_put_u32(message, attribute, value);
  request(message, what + " on " + interface_label(ifindex));
}

void LinkConfigurator::set_mtu(int ifindex, int mtu) {
  set_link_attribute(ifindex, IFLA_MTU, static_cast<std::uint32_t>(mtu),
                     "set MTU " + std::to_string(mtu));
}

void LinkConfigurator::set_tx_queue_length(int ifindex, int packets) {
  set_link_attribute(ifindex, IFLA_TXQLEN, static_cast<std::uint32_t>(packets),
                     "set txqueuelen " + std::to_string(packets));
}

void LinkConfigurator::set_up(int ifindex) {
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWLINK;
  auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifinfomsg)));
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = ifindex;
  info->ifi_flags = IFF_UP;
  info->ifi_change = IFF_UP;
  request(message, "set " + interface_label(ifindex) + " up");
}

void LinkConfigurator::add_address(int ifindex, const wire::IpAddress& address,
                                   int prefix_length) {
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWADDR;
  message->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* info = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ifaddrmsg)));
  info->ifa_family = static_cast<uint8_t>(family_of(address));
  info->ifa_prefixlen = static_cast<uint8_t>(prefix_length);
  info->ifa_scope = RT_SCOPE_UNIVERSE;
  info->ifa_index = static_cast<uint32_t>(ifindex);
  auto size = static_cast<uint16_t>(address.size());
  mnl_attr_put(message, IFA_LOCAL, size, address.bytes.data());
  mnl_attr_put(message, IFA_ADDRESS, size, address.bytes.data());
  // A point-to-point tun has no neighbours to collide with: skip duplicate
  // address detection so an IPv6 address is usable at once, not tentative.
  if (address.version == wire::IpVersion::V6) mnl_attr_put_u32(message, IFA_FLAGS, IFA_F_NODAD);
  request(message, "add address " + wire::IpPrefix{address, prefix_length}.to_string() + " to " +
                       interface_label(ifindex));
}

void LinkConfigurator::add_route(int ifindex, const wire::IpAddress& destination,
                                 int prefix_length, bool replace) {
  wire::IpPrefix prefix = wire::IpPrefix{destination, prefix_length}.network();
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWROUTE;
  message->nlmsg_flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
  route->rtm_family = static_cast<uint8_t>(family_of(destination));
  route->rtm_dst_len = static_cast<uint8_t>(prefix_length);
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;
  // Same scope `ip route add PREFIX dev DEV` picks: link for IPv4 (directly
  // reachable, no gateway); IPv6 routes are always universe.
  route->rtm_scope =
      destination.version == wire::IpVersion::V4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  route->rtm_type = RTN_UNICAST;
  if (prefix_length > 0) {
    mnl_attr_put(message, RTA_DST, static_cast<uint16_t>(destination.size()),
                 prefix.address.bytes.data());
  }
  mnl_attr_put_u32(message, RTA_OIF, static_cast<uint32_t>(ifindex));
  request(message, "add route " + prefix.to_string() + " dev " + interface_label(ifindex));
}

namespace {

// RTM_NEWROUTE / RTM_DELROUTE for PREFIX [via GATEWAY] dev DEV in the main
// table: universe scope with a gateway, link scope without (IPv4).
nlmsghdr* put_gateway_route(char* buffer, std::uint16_t type, int ifindex,
                            const wire::IpPrefix& destination,
                            const std::optional<wire::IpAddress>& gateway) {
  wire::IpPrefix prefix = destination.network();
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = type;
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
  route->rtm_family = static_cast<uint8_t>(family_of(prefix.address));
  route->rtm_dst_len = static_cast<uint8_t>(prefix.length);
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = gateway || prefix.address.version == wire::IpVersion::V6 ? RT_SCOPE_UNIVERSE
                                                                             : RT_SCOPE_LINK;
  route->rtm_type = RTN_UNICAST;
  if (prefix.length > 0) {
    mnl_attr_put(message, RTA_DST, static_cast<uint16_t>(prefix.address.size()),
                 prefix.address.bytes.data());
  }
  if (gateway) {
    mnl_attr_put(message, RTA_GATEWAY, static_cast<uint16_t>(gateway->size()),
                 gateway->bytes.data());
  }
  mnl_attr_put_u32(message, RTA_OIF, static_cast<uint32_t>(ifindex));
  return message;
}

std::string gateway_route_label(int ifindex, const wire::IpPrefix& destination,
                                const std::optional<wire::IpAddress>& gateway) {
  return destination.network().to_string() + (gateway ? " via " + gateway->to_string() : "") +
         " dev " + interface_label(ifindex);
}

}  // namespace

void LinkConfigurator::replace_gateway_route(int ifindex, const wire::IpPrefix& destination,
                                             const std::optional<wire::IpAddress>& gateway) {
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = put_gateway_route(buffer, RTM_NEWROUTE, ifindex, destination, gateway);
  message->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  request(message, "replace route " + gateway_route_label(ifindex, destination, gateway));
}

bool LinkConfigurator::delete_gateway_route(int ifindex, const wire::IpPrefix& destination,
                                            const std::optional<wire::IpAddress>& gateway) {
  alignas(nlmsghdr) char buffer[kMessageSize];
  nlmsghdr* message = put_gateway_route(buffer, RTM_DELROUTE, ifindex, destination, gateway);
  try {
    request(message, "delete route " + gateway_route_label(ifindex, destination, gateway));
  } catch (const std::runtime_error&) {
    if (errno == ESRCH || errno == ENODEV) return false;  // gone already (or its device)
    throw;
  }
  return true;
}

}  // namespace rtether::device
