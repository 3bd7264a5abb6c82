// The kernel's table of UNIX sockets (/proc/net/unix), read to learn whether
// some process listens on a socket path without connecting to it: a
// connection would be a stray client to the listener (a relay would spend a
// client id on it, a management interface would greet it).
//
// The table lists the sockets of the reader's network namespace only. Each
// line is "Num RefCount Protocol Flags Type St Inode[ Path]"
// (net/unix/af_unix.c, unix_seq_show): Flags has __SO_ACCEPTCON (0x10000)
// on a listening socket, and Path, present once the socket is bound, is the
// file name or '@' and the name of an abstract socket.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rtether::io {

struct UnixSocketEntry {
  std::string path;  // file path, or "@name" for an abstract socket
  bool listening = false;
};

// The bound sockets of a table's text (unbound ones and malformed lines are
// skipped; the header line is not an entry). Pure, for fixture tests.
std::vector<UnixSocketEntry> parse_unix_socket_table(std::string_view text);

// True when a socket in the caller's network namespace listens at `path`
// ("@name" for an abstract one), per /proc/net/unix; false when none does
// or the table cannot be read.
bool unix_socket_listening(std::string_view path);

}  // namespace rtether::io
