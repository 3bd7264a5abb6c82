// Emulated ping sockets on IP Helper; see ping_worker.hpp.
#include "io/windows/ping_worker.hpp"

#include <winsock2.h>
#include <ws2tcpip.h>
// IP Helper's header after Winsock's, and icmpapi.h after it.
#include <iphlpapi.h>
// (icmpapi.h uses iphlpapi.h's types.)
#include <icmpapi.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "io/windows/sockaddr.hpp"
#include "io/windows/winsock.hpp"
#include "wire/checksum.hpp"

namespace rtether::io {

namespace {

// ICMP echo header: type, code, checksum, identifier, sequence (RFC 792,
// RFC 4443 section 4).
constexpr std::size_t kEchoHeader = 8;
constexpr std::uint8_t kEchoReplyV4 = 0;
constexpr std::uint8_t kEchoRequestV4 = 8;
constexpr std::uint8_t kEchoRequestV6 = 128;
constexpr std::uint8_t kEchoReplyV6 = 129;
constexpr std::size_t kMaxEchoData = 65535;
// How often a waiting worker looks whether its socket was closed.
constexpr long kStopCheckMicroseconds = 100'000;
// Room past the reply structure and data: an ICMP error's 8 bytes and the
// IO_STATUS_BLOCK ("IcmpSendEcho2" in Microsoft's docs).
constexpr std::size_t kReplySlack = 64;

// ICMPV6_ECHO_REPLY_LH of ipexport.h (which mingw-w64 lacks): the echo data
// follows it in the reply buffer.
#pragma pack(push, 1)
struct Ipv6AddressEx {
  USHORT sin6_port;
  ULONG sin6_flowinfo;
  USHORT sin6_addr[8];
  ULONG sin6_scope_id;
};
#pragma pack(pop)
struct Icmpv6EchoReply {
  Ipv6AddressEx address;
  ULONG status;
  unsigned int round_trip_time;
};

struct Worker {
  std::atomic<bool> stop{false};
};

std::mutex workers_mutex;
std::unordered_map<int, std::shared_ptr<Worker>> workers;  // by the relay end's fd
std::atomic<std::size_t> registered{0};                    // workers.size(), read without the lock
std::atomic<std::size_t> running{0};

class EchoClient {
 public:
  EchoClient(HANDLE icmp, const Endpoint& to) : icmp_(icmp), to_(to) {}
  ~EchoClient() { ::IcmpCloseHandle(icmp_); }
  EchoClient(const EchoClient&) = delete;
  EchoClient& operator=(const EchoClient&) = delete;

  // The echo reply's message for the request in `request`, or an empty
  // span when no reply came.
  wire::Bytes answer(wire::Bytes request) {
    const bool v4 = to_.address.version == wire::IpVersion::V4;
    if (request.size() < kEchoHeader || request[0] != (v4 ? kEchoRequestV4 : kEchoRequestV6))
      return {};
    const auto data = request.subspan(kEchoHeader);
    buffer_.resize(sizeof(ICMP_ECHO_REPLY) + sizeof(Icmpv6EchoReply) + data.size() + kReplySlack);
    wire::Bytes echoed = v4 ? echo_v4(data) : echo_v6(data);
    if (echoed.data() == nullptr) return {};
    reply_.resize(kEchoHeader + echoed.size());
    reply_[0] = v4 ? kEchoReplyV4 : kEchoReplyV6;
    reply_[1] = 0;
    reply_[2] = reply_[3] = 0;
    std::memcpy(&reply_[4], &request[4], 4);  // identifier and sequence
    std::memcpy(reply_.data() + kEchoHeader, echoed.data(), echoed.size());
    // IPv4's checksum covers the message alone; ICMPv6's needs addresses
    // the relay sets, and relay/ rewrites both for the device anyway.
    if (v4) {
      const std::uint16_t sum = wire::internet_checksum(reply_);
      reply_[2] = static_cast<std::uint8_t>(sum >> 8);
      reply_[3] = static_cast<std::uint8_t>(sum);
    }
    return reply_;
  }

 private:
  wire::Bytes echo_v4(wire::Bytes data) {
    IPAddr destination;
    std::memcpy(&destination, to_.address.bytes.data(), 4);
    const DWORD replies = ::IcmpSendEcho2(icmp_, nullptr, nullptr, nullptr, destination,
                                          const_cast<std::uint8_t*>(data.data()),
                                          static_cast<WORD>(data.size()), nullptr, buffer_.data(),
                                          static_cast<DWORD>(buffer_.size()), kEchoTimeoutMs);
    if (replies == 0) return {};
    const auto* reply = reinterpret_cast<const ICMP_ECHO_REPLY*>(buffer_.data());
    if (reply->Status != IP_SUCCESS) return {};
    return {static_cast<const std::uint8_t*>(reply->Data), reply->DataSize};
  }

  wire::Bytes echo_v6(wire::Bytes data) {
    sockaddr_storage source{};
    source.ss_family = AF_INET6;
    sockaddr_storage destination;
    to_sockaddr(Endpoint{to_.address, 0}, destination);
    const DWORD replies = ::Icmp6SendEcho2(
        icmp_, nullptr, nullptr, nullptr, reinterpret_cast<sockaddr_in6*>(&source),
        reinterpret_cast<sockaddr_in6*>(&destination), const_cast<std::uint8_t*>(data.data()),
        static_cast<WORD>(data.size()), nullptr, buffer_.data(), static_cast<DWORD>(buffer_.size()),
        kEchoTimeoutMs);
    if (replies == 0) return {};
    Icmpv6EchoReply reply;
    std::memcpy(&reply, buffer_.data(), sizeof reply);
    if (reply.status != IP_SUCCESS) return {};
    // The reply carries the request's data back: its length is ours.
    return {buffer_.data() + sizeof reply, data.size()};
  }

  HANDLE icmp_;
  Endpoint to_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::uint8_t> reply_;
};

void serve(std::shared_ptr<Worker> worker, Fd socket, HANDLE icmp, Endpoint to) {
  EchoClient client{icmp, to};
  std::vector<std::uint8_t> request(kEchoHeader + kMaxEchoData);
  const SOCKET handle = to_socket(socket.get());
  while (!worker->stop) {
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(handle, &readable);
    timeval wait{0, kStopCheckMicroseconds};
    const int ready = ::select(0, &readable, nullptr, nullptr, &wait);
    if (ready == SOCKET_ERROR) break;
    if (ready == 0) continue;
    const int got = ::recv(handle, reinterpret_cast<char*>(request.data()),
                           static_cast<int>(request.size()), 0);
    if (got == SOCKET_ERROR) {
      if (::WSAGetLastError() == WSAEWOULDBLOCK) continue;
      break;
    }
    auto reply = client.answer({request.data(), static_cast<std::size_t>(got)});
    // A full receive queue of the relay's end drops the reply, as the
    // kernel drops one for a full ping socket.
    if (!reply.empty() && !worker->stop)
      ::send(handle, reinterpret_cast<const char*>(reply.data()), static_cast<int>(reply.size()),
             0);
  }
  --running;
}

std::error_code connect_to(int fd, int peer_fd) {
  sockaddr_storage address{};
  int length = sizeof address;
  if (::getsockname(to_socket(peer_fd), reinterpret_cast<sockaddr*>(&address), &length) ==
      SOCKET_ERROR)
    return last_winsock_error();
  if (::connect(to_socket(fd), reinterpret_cast<sockaddr*>(&address), length) == SOCKET_ERROR)
    return last_winsock_error();
  return {};
}

// Two UDP sockets on 127.0.0.1, each connected to the other.
std::error_code open_loopback_pair(Fd& relay_end, Fd& worker_end) {
  for (Fd* end : {&relay_end, &worker_end}) {
    auto opened = open_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (!opened) return opened.error();
    *end = std::move(*opened);
    sockaddr_in loopback{};
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(to_socket(end->get()), reinterpret_cast<sockaddr*>(&loopback), sizeof loopback) ==
        SOCKET_ERROR)
      return last_winsock_error();
  }
  if (auto error = connect_to(relay_end.get(), worker_end.get())) return error;
  return connect_to(worker_end.get(), relay_end.get());
}

}  // namespace

Result<Fd> open_emulated_ping(const Endpoint& to) {
  const bool v4 = to.address.version == wire::IpVersion::V4;
  if (v4 && to.address.bytes[0] == 255 && to.address.bytes[1] == 255 &&
      to.address.bytes[2] == 255 && to.address.bytes[3] == 255)
    return std::make_error_code(std::errc::operation_not_permitted);
  HANDLE icmp = v4 ? ::IcmpCreateFile() : ::Icmp6CreateFile();
  if (icmp == INVALID_HANDLE_VALUE) return std::make_error_code(std::errc::permission_denied);
  Fd relay_end;
  Fd worker_end;
  if (auto error = open_loopback_pair(relay_end, worker_end)) {
    ::IcmpCloseHandle(icmp);
    return error;
  }
  auto worker = std::make_shared<Worker>();
  ++running;
  try {
    std::thread{serve, worker, std::move(worker_end), icmp, to}.detach();
  } catch (const std::system_error& error) {
    // No thread (exhaustion): no ping socket, as a kernel out of memory.
    --running;
    ::IcmpCloseHandle(icmp);
    return error.code();
  }
  std::lock_guard lock{workers_mutex};
  workers[relay_end.get()] = worker;
  registered = workers.size();
  return relay_end;
}

void stop_ping_worker(int fd) {
  if (registered == 0) return;  // every close passes here: most find nothing
  std::lock_guard lock{workers_mutex};
  auto found = workers.find(fd);
  if (found == workers.end()) return;
  found->second->stop = true;
  workers.erase(found);
  registered = workers.size();
}

std::size_t running_ping_workers() { return running; }

}  // namespace rtether::io
