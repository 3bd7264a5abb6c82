// Where the adb server listens, as adb itself decides it: ADB_SERVER_SOCKET
// (`tcp:PORT`, `tcp:HOST:PORT`, `localabstract:NAME`, `localfilesystem:PATH`),
// else ANDROID_ADB_SERVER_PORT, else tcp:127.0.0.1:5037. Pure parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/gnirehtet.hpp"
#include "wire/ip_address.hpp"

namespace rtether::adb {

constexpr std::uint16_t kDefaultServerPort = 5037;

struct ServerAddress {
  enum class Kind { Tcp, Unix };
  Kind kind = Kind::Tcp;
  wire::IpAddress address = wire::gnirehtet::kHostLoopbackV4;
  std::uint16_t port = kDefaultServerPort;
  std::string unix_path;  // leading '@' = abstract (as io::connect_unix expects)

  std::string to_string() const;
};

// nullopt with a one-line reason in `error` for a value adb would reject.
std::optional<ServerAddress> parse_server_socket(std::string_view text, std::string& error);

// From the two environment values (null when unset).
std::optional<ServerAddress> server_address_from_environment(const char* server_socket,
                                                             const char* server_port,
                                                             std::string& error);

}  // namespace rtether::adb
