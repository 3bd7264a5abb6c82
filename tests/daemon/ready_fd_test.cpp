// ReadyFd: the supervisor's pipe gets one "ready <tun>" line, then EOF.
#include "daemon/ready_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace rtether::daemon {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[64];
  for (int reads = 0; reads < 16; ++reads) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

TEST(ReadyFd, WritesOneLineThenCloses) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  io::Fd read_end(pipe_fds[0]);
  ReadyFd ready(pipe_fds[1]);
  ready.announce("rtether0");
  ready.announce("rtether0-1");  // after a restart: nobody is told twice
  EXPECT_EQ(read_all(read_end.get()), "ready rtether0\n");  // and EOF: the write end is closed
}

TEST(ReadyFd, AClosedDescriptorFailsAtStart) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_THROW(ReadyFd ready(pipe_fds[1]), std::runtime_error);
}

}  // namespace
}  // namespace rtether::daemon
