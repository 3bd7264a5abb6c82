// ADB_SERVER_SOCKET and ANDROID_ADB_SERVER_PORT, as adb reads them.
#include "adb/server_address.hpp"

#include <gtest/gtest.h>

namespace rtether::adb {
namespace {

TEST(ServerAddress, DefaultIsLoopbackPort5037) {
  std::string error;
  auto server = server_address_from_environment(nullptr, nullptr, error);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->to_string(), "tcp:127.0.0.1:5037");
}

TEST(ServerAddress, TcpForms) {
  std::string error;
  EXPECT_EQ(parse_server_socket("tcp:5038", error)->to_string(), "tcp:127.0.0.1:5038");
  EXPECT_EQ(parse_server_socket("tcp:localhost:5039", error)->to_string(), "tcp:127.0.0.1:5039");
  EXPECT_EQ(parse_server_socket("tcp:192.0.2.1:5040", error)->to_string(), "tcp:192.0.2.1:5040");
  EXPECT_EQ(parse_server_socket("tcp:[::1]:5041", error)->to_string(), "tcp:[::1]:5041");
}

TEST(ServerAddress, UnixForms) {
  std::string error;
  auto abstract = parse_server_socket("localabstract:adb-test", error);
  ASSERT_TRUE(abstract);
  EXPECT_EQ(abstract->kind, ServerAddress::Kind::Unix);
  EXPECT_EQ(abstract->unix_path, "@adb-test");
  EXPECT_EQ(abstract->to_string(), "localabstract:adb-test");
  auto path = parse_server_socket("localfilesystem:/run/adb.sock", error);
  ASSERT_TRUE(path);
  EXPECT_EQ(path->unix_path, "/run/adb.sock");
  // A file whose name starts with '@' must not become an abstract socket.
  auto at_file = parse_server_socket("localfilesystem:@adb", error);
  ASSERT_TRUE(at_file);
  EXPECT_EQ(at_file->unix_path, "./@adb");
  EXPECT_EQ(at_file->to_string(), "localfilesystem:./@adb");
}

TEST(ServerAddress, BadValuesSayWhatIsExpected) {
  for (const char* bad : {"udp:5037", "tcp:", "tcp:0", "tcp:70000", "tcp:host.example:5037",
                          "tcp:[::1]5037", "tcp:5037x", "localabstract:", "5037"}) {
    std::string error;
    EXPECT_FALSE(parse_server_socket(bad, error)) << bad;
    EXPECT_NE(error.find("ADB_SERVER_SOCKET"), std::string::npos) << bad;
  }
}

TEST(ServerAddress, PortVariableWhenNoSocketVariable) {
  std::string error;
  EXPECT_EQ(server_address_from_environment(nullptr, "6000", error)->port, 6000);
  EXPECT_EQ(server_address_from_environment("", "6001", error)->port, 6001);
  EXPECT_EQ(server_address_from_environment("tcp:6002", "6003", error)->port, 6002);
  EXPECT_FALSE(server_address_from_environment(nullptr, "abc", error));
  EXPECT_NE(error.find("ANDROID_ADB_SERVER_PORT"), std::string::npos);
}

}  // namespace
}  // namespace rtether::adb
