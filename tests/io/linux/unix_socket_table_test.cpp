// /proc/net/unix: the parser against captured table text (listening and
// connected sockets, abstract names, unbound sockets, paths with spaces,
// the header), and the reader against real listeners.
#include "io/unix_socket_table.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "io/socket.hpp"

namespace rtether::io {
namespace {

// As Linux 6.1 prints it: a header, then Num RefCount Protocol Flags Type
// St Inode[ Path].
constexpr const char* kTable =
    "Num       RefCount Protocol Flags    Type St Inode Path\n"
    "00000000d4948fc4: 00000002 00000000 00010000 0001 01 21554 /run/dbus/system_bus_socket\n"
    "000000009e965861: 00000003 00000000 00000000 0001 03 31012 /run/dbus/system_bus_socket\n"
    "00000000aa05e2b1: 00000002 00000000 00010000 0001 01 40211 @gnirehtet\n"
    "00000000c0ffee00: 00000002 00000000 00000000 0002 01 40212 @client-dgram\n"
    "00000000deadbeef: 00000003 00000000 00000000 0001 03   110\n"
    "0000000012345678: 00000002 00000000 00010000 0001 01 40299 /tmp/with space/mgmt.sock\n";

TEST(ParseUnixSocketTable, ReadsEachBoundSocketsPathAndWhetherItListens) {
  auto entries = parse_unix_socket_table(kTable);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].path, "/run/dbus/system_bus_socket");
  EXPECT_TRUE(entries[0].listening);
  // The same path once more: a connection accepted from that listener.
  EXPECT_EQ(entries[1].path, "/run/dbus/system_bus_socket");
  EXPECT_FALSE(entries[1].listening);
  EXPECT_EQ(entries[2].path, "@gnirehtet");
  EXPECT_TRUE(entries[2].listening);
  EXPECT_EQ(entries[3].path, "@client-dgram");
  EXPECT_FALSE(entries[3].listening);
}

TEST(ParseUnixSocketTable, APathKeepsItsSpaces) {
  auto entries = parse_unix_socket_table(kTable);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[4].path, "/tmp/with space/mgmt.sock");
  EXPECT_TRUE(entries[4].listening);
}

TEST(ParseUnixSocketTable, SkipsTheHeaderUnboundSocketsAndGarbage) {
  EXPECT_TRUE(parse_unix_socket_table("").empty());
  EXPECT_TRUE(parse_unix_socket_table("Num       RefCount Protocol Flags    Type St Inode Path\n")
                  .empty());
  EXPECT_TRUE(parse_unix_socket_table("00000000deadbeef: 00000003 00000000 00000000 0001 03   110")
                  .empty());
  EXPECT_TRUE(parse_unix_socket_table("00000000deadbeef: 00000003 00000000 0001zz00 0001 03 1 /x\n"
                                      "short line /y\n"
                                      "\n")
                  .empty());
}

TEST(ParseUnixSocketTable, TheLastLineNeedsNoNewline) {
  auto entries =
      parse_unix_socket_table("00000000aa05e2b1: 00000002 00000000 00010000 0001 01 40211 @last");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].path, "@last");
  EXPECT_TRUE(entries[0].listening);
}

std::string unique_name(const char* what) {
  return std::string("rtether-test-") + what + "-" + std::to_string(getpid());
}

TEST(UnixSocketListening, SeesAnAbstractListenerWithoutConnecting) {
  std::string name = "@" + unique_name("listening");
  EXPECT_FALSE(unix_socket_listening(name));
  Fd listener = listen_unix(name, 1);
  EXPECT_TRUE(unix_socket_listening(name));
  EXPECT_FALSE(unix_socket_listening(name + "-other"));
}

TEST(UnixSocketListening, SeesAFileListenerAndNotItsStaleFile) {
  std::string path = "/tmp/" + unique_name("file") + ".sock";
  ::unlink(path.c_str());
  {
    Fd listener = listen_unix(path, 1);
    EXPECT_TRUE(unix_socket_listening(path));
  }
  // Closed: the socket file stays behind, but nothing listens on it.
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_FALSE(unix_socket_listening(path));
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace rtether::io
