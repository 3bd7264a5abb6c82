// advance_proxy_handshake: one step of a wire::ProxyHandshake over a
// connected non-blocking socket, shared by TcpFlow (CONNECT tunnels) and
// Socks5UdpAssociation (UDP ASSOCIATE). It sends what the handshake has to
// say, peeks the proxy's answer, feeds it, and discards exactly the bytes
// the handshake took, so whatever follows the answer (the target's first
// bytes) stays in the socket. "Waiting" means a readiness edge (writable,
// or more of the answer) resumes it.
#pragma once

#include <cstdint>
#include <string>

#include "relay/counters.hpp"
#include "wire/bytes.hpp"
#include "wire/proxy_handshake.hpp"

namespace rtether::relay {

struct ProxyProgress {
  enum class Result : std::uint8_t { Waiting, Done, Failed };
  Result result = Result::Waiting;
  // When Failed: the proxy_* counter of the reason, and words for the log.
  std::uint64_t* counter = nullptr;
  std::string why;
};

// `scratch` holds at least wire::ProxyHandshake::kMaxAnswer bytes.
ProxyProgress advance_proxy_handshake(int fd, wire::ProxyHandshake& handshake,
                                      wire::MutableBytes scratch, Counters& counters);

}  // namespace rtether::relay
