// ADB_SERVER_SOCKET / ANDROID_ADB_SERVER_PORT parsing; see server_address.hpp.
#include "adb/server_address.hpp"

namespace rtether::adb {

std::string ServerAddress::to_string() const {
  if (kind == Kind::Unix) {
    if (!unix_path.empty() && unix_path.front() == '@')
      return "localabstract:" + unix_path.substr(1);
    return "localfilesystem:" + unix_path;
  }
  if (address.version == wire::IpVersion::V6)
    return "tcp:[" + address.to_string() + "]:" + std::to_string(port);
  return "tcp:" + address.to_string() + ":" + std::to_string(port);
}

std::optional<ServerAddress> parse_server_socket(std::string_view text, std::string& error) {
  ServerAddress server;
  const std::string shown(text);
  if (text.starts_with("localabstract:") || text.starts_with("localfilesystem:")) {
    bool abstract = text.starts_with("localabstract:");
    std::string_view name = text.substr(text.find(':') + 1);
    if (name.empty() || name.find('\0') != std::string_view::npos) {
      error = "ADB_SERVER_SOCKET '" + shown + "': empty or bad socket name";
      return std::nullopt;
    }
    server.kind = ServerAddress::Kind::Unix;
    // A leading '@' means abstract to io::connect_unix; keep a file named so.
    const std::string_view prefix = abstract ? "@" : name.front() == '@' ? "./" : "";
    server.unix_path.reserve(prefix.size() + name.size());
    server.unix_path.append(prefix).append(name);
    return server;
  }
  if (!text.starts_with("tcp:")) {
    error = "ADB_SERVER_SOCKET '" + shown +
            "': expected tcp:PORT, tcp:HOST:PORT, localabstract:NAME or localfilesystem:PATH";
    return std::nullopt;
  }
  std::string_view rest = text.substr(4);
  std::string_view host;
  std::string_view port_text = rest;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      error = "ADB_SERVER_SOCKET '" + shown + "': expected tcp:[IPV6]:PORT";
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else if (std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  auto port = wire::parse_port(port_text);
  if (!port) {
    error = "ADB_SERVER_SOCKET '" + shown + "': port must be a number from 1 to 65535";
    return std::nullopt;
  }
  server.port = *port;
  if (!host.empty() && host != "localhost" &&
      !wire::IpAddress::parse(std::string(host), server.address)) {
    error = "ADB_SERVER_SOCKET '" + shown + "': host must be localhost or an IP address";
    return std::nullopt;
  }
  return server;
}

std::optional<ServerAddress> server_address_from_environment(const char* server_socket,
                                                             const char* server_port,
                                                             std::string& error) {
  if (server_socket != nullptr && *server_socket != '\0')
    return parse_server_socket(server_socket, error);
  ServerAddress server;
  if (server_port != nullptr && *server_port != '\0') {
    auto port = wire::parse_port(server_port);
    if (!port) {
      error = std::string("ANDROID_ADB_SERVER_PORT '") + server_port +
              "': must be a number from 1 to 65535";
      return std::nullopt;
    }
    server.port = *port;
  }
  return server;
}

}  // namespace rtether::adb
