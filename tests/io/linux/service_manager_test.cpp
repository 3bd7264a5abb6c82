// service_manager on Linux: each call is one sd_notify datagram to
// $NOTIFY_SOCKET with systemd's "KEY=value" lines (sd_notify(3)), read here
// from a datagram socket of the test's own, as systemd would; a service
// manager is there exactly when $NOTIFY_SOCKET is set.
#include "io/service_manager.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace rtether::io {
namespace {

class ServiceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    ::unlink(path_.c_str());
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // The next datagram, or "" when none comes within a second.
  std::string receive() {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, 1000) != 1) return {};
    char buffer[512];
    ssize_t size = ::recv(fd_, buffer, sizeof(buffer), 0);
    return size > 0 ? std::string(buffer, static_cast<std::size_t>(size)) : std::string{};
  }
  bool nothing_pending() {
    pollfd ready{fd_, POLLIN, 0};
    return ::poll(&ready, 1, 0) == 0;
  }
  int fd_ = -1;
  std::string path_ = "/tmp/rtether-notify-test-" + std::to_string(getpid()) + ".sock";
};

TEST_F(ServiceManagerTest, ReadySendsReadyAndTheStatusInOneDatagram) {
  notify_ready("relaying on 127.0.0.1:31416");
  EXPECT_EQ(receive(), "READY=1\nSTATUS=relaying on 127.0.0.1:31416");
  EXPECT_TRUE(nothing_pending());
}

TEST_F(ServiceManagerTest, StatusSendsTheStatusOnly) {
  notify_status("2 devices");
  EXPECT_EQ(receive(), "STATUS=2 devices");
}

TEST_F(ServiceManagerTest, StoppingSendsStoppingAndTheStatus) {
  notify_stopping("stopping");
  EXPECT_EQ(receive(), "STOPPING=1\nSTATUS=stopping");
}

TEST_F(ServiceManagerTest, WithoutNotifySocketNothingIsSent) {
  EXPECT_TRUE(has_service_manager());
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(has_service_manager());
  notify_ready("not under systemd");
  EXPECT_TRUE(nothing_pending());
}

}  // namespace
}  // namespace rtether::io
