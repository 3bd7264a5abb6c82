// Socks5Client: the client side of a SOCKS Protocol Version 5 opening
// (RFC 1928), with username/password authentication (RFC 1929) when
// credentials are given.
//
//   greeting   VER=5 NMETHODS METHODS...   (00 no auth; 02 username/password)
//   <- choice  VER=5 METHOD                (FF: none acceptable)
//   [auth      VER=1 ULEN UNAME PLEN PASSWD   RFC 1929 2
//    <- status VER=1 STATUS                   00 success]
//   request    VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT   RFC 1928 4
//   <- reply   VER=5 REP RSV=0 ATYP BND.ADDR BND.PORT   RFC 1928 6
//
// Addresses are IPv4 (ATYP 01) or IPv6 (04): the relay always knows the
// device's destination address, never a name. For CONNECT the bound
// address is the proxy's side of the target connection; for UDP ASSOCIATE
// it is where datagrams go (RFC 1928 7; an all-zeros address means the
// proxy's own address). A domain-name BND.ADDR (03) is read past; bound()
// is then empty.
#pragma once

#include <optional>

#include "wire/proxy_handshake.hpp"

namespace rtether::wire {

inline constexpr std::uint8_t kSocks5Version = 5;
inline constexpr std::uint8_t kSocks5AuthVersion = 1;  // RFC 1929 2
// Reply codes (RFC 1928 6).
namespace socks5_reply {
inline constexpr std::uint8_t kSucceeded = 0;
inline constexpr std::uint8_t kGeneralFailure = 1;
inline constexpr std::uint8_t kNotAllowed = 2;
inline constexpr std::uint8_t kNetworkUnreachable = 3;
inline constexpr std::uint8_t kHostUnreachable = 4;
inline constexpr std::uint8_t kConnectionRefused = 5;
inline constexpr std::uint8_t kTtlExpired = 6;
inline constexpr std::uint8_t kCommandNotSupported = 7;
inline constexpr std::uint8_t kAddressTypeNotSupported = 8;
}  // namespace socks5_reply
namespace socks5_method {
inline constexpr std::uint8_t kNoAuth = 0x00;
inline constexpr std::uint8_t kUsernamePassword = 0x02;
inline constexpr std::uint8_t kNoneAcceptable = 0xff;
}  // namespace socks5_method
namespace socks5_atyp {
inline constexpr std::uint8_t kIpv4 = 1;
inline constexpr std::uint8_t kDomainName = 3;
inline constexpr std::uint8_t kIpv6 = 4;
}  // namespace socks5_atyp

enum class Socks5Command : std::uint8_t { Connect = 1, UdpAssociate = 3 };

struct Socks5Address {
  IpAddress address;
  std::uint16_t port = 0;
};

class Socks5Client final : public ProxyHandshake {
 public:
  // Queues the greeting. `credentials`' fields must be 1..255 bytes
  // (checked where they are read, relay/upstream_proxy.hpp).
  Socks5Client(Socks5Command command, const Socks5Address& target,
               const std::optional<ProxyCredentials>& credentials);

  std::size_t feed(Bytes input) override;

  // After Done: BND.ADDR and BND.PORT of the reply, when an IP address.
  const std::optional<Socks5Address>& bound() const { return bound_; }
  // After a failed reply: its REP code (0 before any reply).
  std::uint8_t reply_code() const { return reply_code_; }

 private:
  enum class Step : std::uint8_t { Method, Auth, Reply };
  std::size_t on_method(Bytes input);
  std::size_t on_auth(Bytes input);
  std::size_t on_reply(Bytes input);
  void queue_request();

  Socks5Command command_;
  Socks5Address target_;
  std::optional<ProxyCredentials> credentials_;
  Step step_ = Step::Method;
  std::optional<Socks5Address> bound_;
  std::uint8_t reply_code_ = 0;
};

// The address part of a SOCKS5 request or UDP header: ATYP, address, port.
std::size_t socks5_address_size(IpVersion version);
// Writes it at the start of `out` (at least socks5_address_size bytes).
void write_socks5_address(MutableBytes out, const Socks5Address& address);

}  // namespace rtether::wire
