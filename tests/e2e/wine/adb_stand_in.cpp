// The adb client the Wine end-to-end tests give rtether.exe. Wine starts a
// Unix program (Debian's adb, the tests' adb-guard) outside Windows' view:
// CreateProcessW succeeds without a process handle, so rtether.exe could
// neither wait for it nor read its output. This Windows program stands in
// for the pair the Linux tests use (tests/e2e/adb_env.py): like adb-guard it
// logs its arguments (to ADB_STAND_IN_LOG), answers `start-server` itself
// and refuses to run while the fake adb server is down; like adb 29's
// client it sends, for each command rtether runs, the requests the Linux
// tests expect (adb_env.py lists them) to ADB_SERVER_SOCKET and prints what
// adb prints, failures as "adb: error: ..." with exit 1.
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#include <winsock2.h>
#include <ws2tcpip.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "adb: error: %s\n", message.c_str());
  std::exit(1);
}

struct Server {
  std::string host = "127.0.0.1";
  std::string port = "5037";
};

Server server_from_environment() {
  Server server;
  const char* address = std::getenv("ADB_SERVER_SOCKET");
  if (address == nullptr) return server;
  std::string text = address;
  std::size_t last = text.rfind(':');
  if (!text.starts_with("tcp:") || last == 3) fail("ADB_SERVER_SOCKET: only tcp:HOST:PORT here");
  server.host = text.substr(4, last - 4);
  server.port = text.substr(last + 1);
  return server;
}

SOCKET connect_to(const Server& server) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(server.host.c_str(), server.port.c_str(), &hints, &found) != 0)
    return INVALID_SOCKET;
  SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (s != INVALID_SOCKET &&
      ::connect(s, found->ai_addr, static_cast<int>(found->ai_addrlen)) != 0) {
    ::closesocket(s);
    s = INVALID_SOCKET;
  }
  ::freeaddrinfo(found);
  return s;
}

void send_all(SOCKET s, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    int n = ::send(s, data.data() + sent, static_cast<int>(data.size() - sent), 0);
    if (n <= 0) fail("connection to the adb server lost");
    sent += static_cast<std::size_t>(n);
  }
}

std::string receive(SOCKET s, std::size_t size) {
  std::string data;
  while (data.size() < size) {
    char buffer[4096];
    int n = ::recv(s, buffer, static_cast<int>(std::min(sizeof buffer, size - data.size())), 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  return data;
}

std::string receive_to_end(SOCKET s) { return receive(s, static_cast<std::size_t>(-1)); }

void request(SOCKET s, const std::string& text) {
  char length[5];
  std::snprintf(length, sizeof length, "%04x", static_cast<unsigned>(text.size()));
  send_all(s, length + text);
}

// OKAY, or FAIL and its framed message (empty when OKAY).
bool okay(SOCKET s, std::string& failure) {
  std::string status = receive(s, 4);
  if (status == "OKAY") return true;
  std::string length = receive(s, 4);
  failure = receive(s, std::strtoul(length.c_str(), nullptr, 16));
  if (status != "FAIL") failure = "protocol fault (status '" + status + "')";
  return false;
}

class Client {
 public:
  Client(Server server, std::string serial)
      : server_(std::move(server)), serial_(std::move(serial)) {}

  // One request on a connection of its own (host:version, features).
  void host_request(const std::string& text, const char* what) {
    SOCKET s = open();
    request(s, text);
    std::string failure;
    if (!okay(s, failure)) fail(std::string(what) + failure);
    ::closesocket(s);
  }
  void version() { host_request("host:version", "failed to check server version: "); }
  void features() {
    host_request(serial_.empty() ? "host:features" : "host-serial:" + serial_ + ":features",
                 "failed to get feature set: ");
  }
  // host:get-serialno: the only device's serial (FAIL as adb's own error).
  std::string serial_number() {
    SOCKET s = open();
    request(s, "host:get-serialno");
    std::string failure;
    if (!okay(s, failure)) fail(failure);
    std::string length = receive(s, 4);
    std::string serial = receive(s, std::strtoul(length.c_str(), nullptr, 16));
    ::closesocket(s);
    return serial;
  }
  // A connection switched to the device, with `service` requested on it.
  SOCKET service(const std::string& service) {
    SOCKET s = open();
    request(s, serial_.empty() ? "host:tport:any" : "host:tport:serial:" + serial_);
    std::string failure;
    if (!okay(s, failure)) fail(failure);
    receive(s, 8);  // the transport id
    request(s, service);
    if (!okay(s, failure)) fail(failure);
    return s;
  }

 private:
  SOCKET open() {
    SOCKET s = connect_to(server_);
    if (s == INVALID_SOCKET) fail("cannot connect to daemon");
    return s;
  }
  Server server_;
  std::string serial_;
};

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

void log_arguments(const std::vector<std::string>& args) {
  const char* path = std::getenv("ADB_STAND_IN_LOG");
  if (path == nullptr) return;
  std::ofstream(path, std::ios::app | std::ios::binary) << joined(args) << "\n";
}
}  // namespace

int main(int argc, char** argv) {
  ::_setmode(::_fileno(stdout), _O_BINARY);
  std::vector<std::string> args(argv + 1, argv + argc);
  log_arguments(args);
  if (args == std::vector<std::string>{"start-server"}) return 0;
  WSADATA data;
  ::WSAStartup(MAKEWORD(2, 2), &data);
  Server server = server_from_environment();
  SOCKET probe = connect_to(server);
  if (probe == INVALID_SOCKET) {
    std::fputs("adb: cannot connect to daemon (the fake adb server is down)\n", stderr);
    return 1;
  }
  ::closesocket(probe);
  std::string serial;
  if (args.size() >= 2 && args[0] == "-s") {
    serial = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) fail("no command");
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  Client client(server, serial);
  if (command == "version") {
    std::fputs("Android Debug Bridge version 1.0.41\nVersion 29.0.6-debian (stand-in)\n", stdout);
    return 0;
  }
  if (command == "get-serialno") {
    client.version();
    std::string out = client.serial_number() + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (command == "shell" || command == "uninstall") {
    std::string service = command == "shell"
                              ? "shell:" + joined(rest)
                              : "shell:cmd package 'uninstall' '" + joined(rest) + "'";
    client.version();
    client.features();
    SOCKET s = client.service(service);
    std::string out = receive_to_end(s);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (command == "reverse" && rest.size() == 2) {
    client.version();
    SOCKET s = client.service("reverse:forward:" + rest[0] + ";" + rest[1]);
    std::string failure;
    if (!okay(s, failure)) fail(failure);
    return 0;
  }
  if (command == "install" && rest.size() == 2 && rest[0] == "-r") {
    std::ifstream file(rest[1], std::ios::binary);
    if (!file) fail("cannot open '" + rest[1] + "'");
    std::string apk((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    client.version();
    client.features();
    SOCKET s = client.service("exec:cmd package 'install' '-r' -S " + std::to_string(apk.size()));
    send_all(s, apk);
    std::string out = receive_to_end(s);
    std::fputs("Performing Streamed Install\n", stdout);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return out.find("Success") != std::string::npos ? 0 : 1;
  }
  fail("the stand-in knows no '" + joined(args) + "'");
}
