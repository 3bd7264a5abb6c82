// ProxyHandshake: the client side of an upstream proxy's opening exchange
// (SOCKS5, socks5_client.hpp; HTTP CONNECT, http_connect_client.hpp) as a
// state machine fed bytes, with no I/O: the owner sends output(), reports
// what went with output_sent(), and feeds what the proxy answered. feed()
// takes only whole messages and returns the bytes it took, so the owner can
// peek the socket, feed, and discard exactly that much: whatever the proxy
// relays from the target right after its answer stays in the socket for
// the tunnel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/ip_address.hpp"

namespace rtether::wire {

// Why a handshake failed, in the terms the relay counts and answers by.
enum class ProxyError : std::uint8_t {
  None,
  Malformed,      // the answer is not the protocol, or too long
  AuthRequired,   // the proxy wants credentials we were not given or does not
                  // take ours
  AuthFailed,     // the proxy rejected the username/password
  NotAllowed,     // the proxy's rules forbid the target (SOCKS5 02, HTTP 403)
  TargetRefused,  // the target refused or was unreachable from the proxy
  Unsupported,    // the command or address type is not supported (SOCKS5 07, 08)
  Failed,         // any other failure the proxy reported
};
std::string_view to_string(ProxyError error);

// RFC 1929 username/password (HTTP: Basic, RFC 7617), each 1..255 bytes.
struct ProxyCredentials {
  std::string user;
  std::string password;
};

class ProxyHandshake {
 public:
  // The longest answer message taken (an HTTP response header; SOCKS5's
  // are at most 262 bytes): an owner that peeks this much always has a
  // whole one, and a longer one is malformed.
  static constexpr std::size_t kMaxAnswer = 8192;

  enum class State : std::uint8_t { Waiting, Done, Failed };

  virtual ~ProxyHandshake() = default;

  // Bytes to send now (empty: nothing until more is fed).
  Bytes output() const { return Bytes{output_}.subspan(output_sent_); }
  void output_sent(std::size_t bytes);
  // Takes whole messages from the start of `input`; returns how many bytes
  // they were (0: more input is needed, or the handshake is over).
  virtual std::size_t feed(Bytes input) = 0;

  State state() const { return state_; }
  ProxyError error() const { return error_; }

 protected:
  void queue(Bytes bytes);
  std::size_t fail(ProxyError error);

  State state_ = State::Waiting;

 private:
  std::vector<std::uint8_t> output_;
  std::size_t output_sent_ = 0;
  ProxyError error_ = ProxyError::None;
};

}  // namespace rtether::wire
