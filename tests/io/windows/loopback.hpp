// Loopback sockets for the Winsock backend's tests: a connected TCP pair
// made with io/ calls only.
#pragma once

#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include "io/socket.hpp"

namespace rtether::io::testing {

inline wire::IpAddress loopback() {
  wire::IpAddress address;
  wire::IpAddress::parse("127.0.0.1", address);
  return address;
}

inline wire::Bytes text(const char* bytes, std::size_t size) {
  return {reinterpret_cast<const std::uint8_t*>(bytes), size};
}

// Both ends of a loopback TCP connection (`a` connected, `b` accepted),
// non-blocking.
struct TcpPair {
  Fd a, b;
  TcpPair() {
    Fd listener = listen_tcp({loopback(), 0});
    auto connection = connect_nonblocking(Transport::Tcp, *local_endpoint(listener.get()));
    if (!connection) throw std::system_error(connection.error(), "connect");
    a = std::move(connection->fd);
    for (int attempt = 0; attempt < 1000 && !b.valid(); ++attempt) {
      if (auto accepted = accept_nonblocking(listener.get())) {
        b = std::move(*accepted);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    if (!b.valid()) throw std::runtime_error("no connection accepted");
  }
};

}  // namespace rtether::io::testing
