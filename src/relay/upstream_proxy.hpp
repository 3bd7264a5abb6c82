// UpstreamProxy: the proxy every host connection goes through
// (`--proxy URL`), and how its URL is read.
//
//   socks5://[USER:PASS@]HOST:PORT   SOCKS5 (RFC 1928; socks5h: the same,
//                                    since the relay only ever asks for
//                                    addresses), RFC 1929 username/password
//   http://[USER:PASS@]HOST:PORT     HTTP CONNECT (RFC 9110 9.3.6), Basic
//                                    Proxy-Authorization (RFC 7617)
//
// HOST is an IP address (IPv6 in brackets) or a host name. A name is
// resolved once, at start-up, with the host's resolver (cli/proxy_options:
// io::resolve_host_name, the first address it prefers); the relay keeps
// that address while it runs, so a proxy that moves to another address
// needs a restart (the event loop never waits on a resolver).
// USER and PASS are percent-decoded (RFC 3986 2.1), 1..255 bytes each; a
// trailing "/" is accepted, as proxy environment variables often carry one.
// Only SOCKS5 carries UDP (UDP ASSOCIATE, RFC 1928 7); for an HTTP proxy,
// `ProxyUdp` says what device UDP does.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/socket.hpp"
#include "wire/proxy_handshake.hpp"
#include "wire/socks5_client.hpp"

namespace rtether::relay {

enum class ProxyScheme : std::uint8_t { Socks5, HttpConnect };

// `--proxy-udp`: device UDP (other than DNS to the relay's resolver) when
// the proxy cannot carry it: sent from the host directly, or refused with
// "administratively prohibited" (proxy_udp_dropped).
enum class ProxyUdp : std::uint8_t { Direct, Drop };

struct UpstreamProxy {
  ProxyScheme scheme = ProxyScheme::Socks5;
  io::Endpoint address;  // for a host name: its address once resolved
  std::string host;      // the host name as given; empty for an IP address
  std::optional<wire::ProxyCredentials> credentials;

  bool carries_udp() const { return scheme == ProxyScheme::Socks5; }
  // The opening of a TCP tunnel to `target`.
  std::unique_ptr<wire::ProxyHandshake> tcp_handshake(const io::Endpoint& target) const;
  // "socks5://user@127.0.0.1:1080" (the host name, when given by one): for
  // logs, never the password.
  std::string to_string() const;
};

// nullopt and a message naming what is wrong in `error` on bad input.
std::optional<UpstreamProxy> parse_proxy_url(std::string_view text, std::string& error);

}  // namespace rtether::relay
