// UiClient over a socketpair: the descriptors the daemon passes reach the
// line they belong to even when that line arrives in pieces.
#include "mgmt/ui_client.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

namespace rtether::mgmt {
namespace {

// Records the identity (inode) of every descriptor it is asked to protect.
class RecordingDevice final : public UiDevice {
 public:
  io::Fd open_tun(const TunConfig&, std::string& error) override {
    error = "no tun in this test";
    return {};
  }
  bool protect(int fd, std::string& detail) override {
    struct stat info {};
    protected_inodes.push_back(fstat(fd, &info) == 0 ? info.st_ino : 0);
    detail = "recorded";
    return true;
  }
  std::vector<ino_t> protected_inodes;
};

class UiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    daemon_ = io::Fd(pair[0]);
    ui_socket_ = io::Fd(pair[1]);
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    pipe_read_ = io::Fd(pipe_fds[0]);
    pipe_write_ = io::Fd(pipe_fds[1]);
    struct stat info {};
    ASSERT_EQ(fstat(pipe_write_.get(), &info), 0);
    pipe_inode_ = info.st_ino;
  }

  void send_part(const std::string& text, int fd = -1) {
    wire::Bytes bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    auto sent = io::send_with_fd(daemon_.get(), bytes, fd);
    ASSERT_TRUE(sent);
    ASSERT_EQ(*sent, text.size());
  }

  // Reads what the UI sends until `line` (or a timeout).
  bool expect_from_ui(const std::string& line) {
    std::string seen;
    for (int i = 0; i < 100; ++i) {
      if (seen.find(line + "\n") != std::string::npos) return true;
      pollfd ready{daemon_.get(), POLLIN, 0};
      if (poll(&ready, 1, 5000) != 1) break;
      char buffer[1024];
      long got = read(daemon_.get(), buffer, sizeof buffer);
      if (got <= 0) break;
      seen.append(buffer, static_cast<std::size_t>(got));
    }
    ADD_FAILURE() << "UI sent: " << seen;
    return false;
  }

  io::Fd daemon_, ui_socket_, pipe_read_, pipe_write_;
  ino_t pipe_inode_ = 0;
};

TEST_F(UiClientTest, DescriptorWithTheFirstPieceOfALineGoesWithThatLine) {
  RecordingDevice device;
  UiSession session(device, {});
  UiClient client(std::move(ui_socket_), session);
  bool clean = false;
  std::thread ui([&] { clean = client.run({}); });
  send_part(">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n");
  EXPECT_TRUE(expect_from_ui("state on"));
  // The NEED-OK line in two writes, the socket with the first one (as after
  // a partial sendmsg, or a read that ends inside the line).
  send_part(">NEED-OK:Need 'PROTE", pipe_write_.get());
  // Let the UI read the first piece on its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  send_part("CTFD' confirmation MSG:protect_fd_nonlocal\r\n");
  EXPECT_TRUE(expect_from_ui("needok 'PROTECTFD' ok"));
  // The same for the reply to network-change.
  send_part("PROTECTFD: fd '", pipe_write_.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  send_part("7' sent to be protected\r\nSUCCESS: pid=1\r\n");
  daemon_.reset();  // the daemon goes: run() returns
  ui.join();
  EXPECT_TRUE(clean);
  ASSERT_EQ(device.protected_inodes.size(), 2u);
  EXPECT_EQ(device.protected_inodes[0], pipe_inode_);
  EXPECT_EQ(device.protected_inodes[1], pipe_inode_);
}

TEST_F(UiClientTest, DescriptorWithALineThatTakesNoneIsClosed) {
  RecordingDevice device;
  UiSession session(device, {});
  UiClient client(std::move(ui_socket_), session);
  std::thread ui([&] { client.run({}); });
  send_part(">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n",
            pipe_write_.get());
  EXPECT_TRUE(expect_from_ui("state on"));
  pipe_write_.reset();
  // Our copy is closed; the UI closed its own: the pipe reads end-of-file.
  pollfd ready{pipe_read_.get(), POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 5000), 1);
  char byte;
  EXPECT_EQ(read(pipe_read_.get(), &byte, 1), 0);
  daemon_.reset();
  ui.join();
  EXPECT_TRUE(device.protected_inodes.empty());
}

}  // namespace
}  // namespace rtether::mgmt
