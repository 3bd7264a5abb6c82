// Ping sockets and the error queue on Windows; see socket_errors.hpp.
// Winsock has no error queue: the one thing relay/ reads from it on
// Windows, a UDP port unreachable, comes as WSAECONNRESET on the next
// receive (SIO_UDP_CONNRESET, "Winsock IOCTLs" in Microsoft's docs), which
// queued_udp_reset turns into a queued SocketError. Ping sockets are
// emulated on IP Helper (ping_worker.hpp).
#include "io/socket_errors.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>
// After Winsock's own header.
#include <mswsock.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "io/windows/ping_worker.hpp"
#include "io/windows/winsock.hpp"

namespace rtether::io {

namespace {

// Entries kept per socket: Linux bounds its queue by the receive buffer;
// a reset says the same each time, so a few are enough.
constexpr std::size_t kMaxQueuedErrors = 16;

// The error queues of sockets with enable_error_queue on, by fd. Every
// loop thread reaches it, so it is locked; `queues_in_use` lets a close or
// a TCP reset skip the lock while no UDP socket has one.
std::mutex queues_mutex;
std::unordered_map<int, std::deque<SocketError>> queues;
std::atomic<std::size_t> queues_in_use{0};

std::error_code set_udp_connection_reset(int fd, bool on) {
  BOOL value = on ? TRUE : FALSE;
  DWORD returned = 0;
  if (::WSAIoctl(to_socket(fd), SIO_UDP_CONNRESET, &value, sizeof value, nullptr, 0, &returned,
                 nullptr, nullptr) == SOCKET_ERROR)
    return last_winsock_error();
  return {};
}

}  // namespace

std::error_code disable_udp_connection_reset(int fd) { return set_udp_connection_reset(fd, false); }

void forget_socket_state(int fd) {
  stop_ping_worker(fd);
  if (queues_in_use == 0) return;
  std::lock_guard lock{queues_mutex};
  queues.erase(fd);
  queues_in_use = queues.size();
}

std::error_code queued_udp_reset(int fd, std::error_code error) {
  if (queues_in_use == 0) return error;
  std::lock_guard lock{queues_mutex};
  auto queue = queues.find(fd);
  if (queue == queues.end()) return error;
  // Winsock keeps no ICMP detail: the kind is what the reset stands for.
  SocketError refused;
  refused.error = std::make_error_code(std::errc::connection_refused);
  if (queue->second.size() < kMaxQueuedErrors) queue->second.push_back(refused);
  return refused.error;
}

Result<Fd> open_ping_socket(const Endpoint& to) { return open_emulated_ping(to); }

std::optional<wire::IpVersion> socket_version(int fd) {
  WSAPROTOCOL_INFOW info{};
  int length = sizeof info;
  if (::getsockopt(to_socket(fd), SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info),
                   &length) == SOCKET_ERROR)
    return std::nullopt;
  if (info.iAddressFamily == AF_INET) return wire::IpVersion::V4;
  if (info.iAddressFamily == AF_INET6) return wire::IpVersion::V6;
  return std::nullopt;
}

std::error_code enable_error_queue(int fd) {
  if (!socket_version(fd)) return std::make_error_code(std::errc::address_family_not_supported);
  if (auto error = set_udp_connection_reset(fd, true)) return error;
  std::lock_guard lock{queues_mutex};
  queues.try_emplace(fd);
  queues_in_use = queues.size();
  return {};
}

std::optional<SocketError> read_error_queue(int fd) {
  if (queues_in_use == 0) return std::nullopt;
  std::lock_guard lock{queues_mutex};
  auto queue = queues.find(fd);
  if (queue == queues.end() || queue->second.empty()) return std::nullopt;
  SocketError error = queue->second.front();
  queue->second.pop_front();
  return error;
}

std::uint32_t path_mtu(int fd) {
  const auto version = socket_version(fd);
  if (!version) return 0;
  DWORD mtu = 0;
  int length = sizeof mtu;
  const bool v4 = *version == wire::IpVersion::V4;
  // IP_MTU / IPV6_MTU: Windows 10 1703 and later; 0 where it is missing.
  if (::getsockopt(to_socket(fd), v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU,
                   reinterpret_cast<char*>(&mtu), &length) == SOCKET_ERROR)
    return 0;
  return mtu;
}

}  // namespace rtether::io
