// relay_link: the device end of the stream link. Parses where the relay is
// (`HOST:PORT`, `[IPV6]:PORT`, or `unix:PATH` with a leading '@' for an
// abstract socket, like adb's localabstract:gnirehtet), connects, tunes the
// socket for throughput, and reads the 4-byte big-endian client id the relay
// sends first (Gnirehtet's handshake: it proves a relay is really there),
// then, with --secret, answers the relay's nonce.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "io/socket.hpp"
#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::device {

struct RelayAddress {
  enum class Kind { Tcp, Unix };
  Kind kind = Kind::Tcp;
  std::string host;      // Tcp: name or literal address (no brackets)
  std::uint16_t port = 0;
  std::string path;      // Unix: filesystem path, or "@name" for abstract

  std::string to_string() const;
};

// Returns the address, or nullopt with a one-line reason in `error`.
std::optional<RelayAddress> parse_relay_address(std::string_view text, std::string& error);

struct RelayConnection {
  io::Fd stream;
  std::uint32_t client_id = 0;
  // TCP only (empty for UNIX): numeric endpoints, for the CONNECTED state.
  std::string remote_address, remote_port, local_address, local_port;
};

// Called with each new socket before it connects, with the address it will
// connect to (nullopt for a UNIX socket): the place to protect it from the
// VPN's routes (VpnService.protect; the daemon decides which sockets need
// it). Returning false abandons the connection with `error` set.
using BeforeConnect = std::function<bool(
    int fd, const std::optional<wire::IpAddress>& destination, std::string& error)>;

// Connects and reads the client id, giving up after `timeout_ms` or as soon
// as `cancel_fd` becomes readable (pass -1 for none). Failure is an expected
// outcome (relay not started yet): nullopt with the reason in `error`.
// With a `secret` (the relay's --secret), it also answers the relay's nonce
// (wire/secret_handshake.hpp) before returning.
std::optional<RelayConnection> connect_relay(const RelayAddress& address, int cancel_fd,
                                             int timeout_ms, std::string& error,
                                             const BeforeConnect& before_connect = {},
                                             wire::Bytes secret = {});

}  // namespace rtether::device
