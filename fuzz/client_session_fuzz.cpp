// Fuzz target: the whole relay engine behind one client. The input is the
// byte stream a device would send; every IP destination in it is rewritten
// to the host-loopback alias (10.0.2.2 / fd00::2:2), so the flows it opens
// only ever reach 127.0.0.1 / ::1, except the relay's resolver (10.0.2.3 /
// fd00::2:3), kept for the DNS forwarder, whose one upstream is 127.0.0.1's
// discard port. The stream goes through a socketpair into
// a real ClientSession, the loop turns, the device hangs up, and the session
// must close without a crash, a leak or a sanitizer report.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "io/event_loop.hpp"
#include "io/socket.hpp"
#include "relay/client_session.hpp"
#include "wire/gnirehtet.hpp"
#include "wire/ip_packet.hpp"

namespace {

using namespace rtether;

constexpr std::uint8_t kHostAliasV4[4] = {10, 0, 2, 2};
constexpr std::uint8_t kHostAliasV6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2};
constexpr std::uint8_t kResolverV4[4] = {10, 0, 2, 3};
constexpr std::uint8_t kResolverV6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3};
constexpr std::uint16_t kDiscardPort = 9;  // RFC 863

// Points every framed packet at the host alias; stops where framing does
// (the rest is passed on as is, to exercise the session's bad-stream path).
void aim_at_loopback(std::vector<std::uint8_t>& stream) {
  std::size_t offset = 0;
  while (offset < stream.size()) {
    auto length = wire::ip_packet_length(wire::Bytes(stream).subspan(offset));
    if (length.error != wire::IpError::None || length.length == 0) return;
    if (offset + length.length > stream.size()) return;
    std::uint8_t* packet = stream.data() + offset;
    if ((packet[0] >> 4) == 4 && length.length >= 20 && std::memcmp(packet + 16, kResolverV4, 4))
      std::memcpy(packet + 16, kHostAliasV4, 4);
    if ((packet[0] >> 4) == 6 && length.length >= 40 && std::memcmp(packet + 24, kResolverV6, 16))
      std::memcpy(packet + 24, kHostAliasV6, 16);
    offset += length.length;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static relay::RelayConfig config = [] {
    relay::RelayConfig c;
    c.max_flows_per_client = 64;
    c.dns_upstreams = {{wire::gnirehtet::kHostLoopbackV4, kDiscardPort}};
    return c;
  }();
  std::vector<std::uint8_t> stream(data, data + size);
  aim_at_loopback(stream);

  io::EventLoop loop;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  io::Fd device{fds[1]};
  bool closed = false;
  auto session = std::make_unique<relay::ClientSession>(loop, io::Fd{fds[0]}, 0, config,
                                                        [&](std::uint32_t) { closed = true; });
  session->start();
  std::size_t sent = 0;
  for (int turn = 0; turn < 16; ++turn) {
    if (sent < stream.size()) {
      long n = ::send(device.get(), stream.data() + sent, stream.size() - sent,
                      MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    std::uint8_t sink[65536];
    while (::recv(device.get(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    loop.run_once(std::chrono::milliseconds(0));
  }
  device.reset();  // the device hangs up
  for (int turn = 0; turn < 4 && !closed; ++turn) loop.run_once(std::chrono::milliseconds(0));
  session.reset();
  loop.run_once(std::chrono::milliseconds(0));
  return 0;
}
