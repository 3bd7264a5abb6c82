// PrivateUnixListener: a 0600 socket file that accepts connections, a live
// listener's path refused and left alone, a stale socket file taken over, a
// path that is not a socket never removed, the file gone on close, and
// abstract names.
#include "io/private_unix_listener.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "io/unix_socket_table.hpp"

namespace rtether::io {
namespace {

class PrivateUnixListenerTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unlink(path_.c_str()); }
  bool exists() const {
    struct stat info {};
    return ::lstat(path_.c_str(), &info) == 0;
  }
  mode_t mode() const {
    struct stat info {};
    EXPECT_EQ(::lstat(path_.c_str(), &info), 0);
    return info.st_mode;
  }
  std::string path_ = "/tmp/rtether-private-listener-test-" + std::to_string(getpid()) + ".sock";
};

TEST_F(PrivateUnixListenerTest, TheSocketFileIsTheOwnersOnlyAndAcceptsConnections) {
  // A permissive umask must not widen the file's mode.
  mode_t old_mask = ::umask(0);
  PrivateUnixListener listener(path_, 1);
  EXPECT_EQ(::umask(old_mask), 0u);  // the process umask is restored
  ASSERT_TRUE(listener.valid());
  EXPECT_TRUE(S_ISSOCK(mode()));
  EXPECT_EQ(mode() & 0777, 0600u);
  Fd client = connect_unix_blocking(path_);
  EXPECT_TRUE(client.valid());
}

TEST_F(PrivateUnixListenerTest, RefusesAPathALiveProcessListensOn) {
  Fd other = listen_unix(path_, 1);
  try {
    PrivateUnixListener listener(path_, 1);
    ADD_FAILURE() << "a live listener's path was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), path_ + " is in use by another process");
  }
  EXPECT_TRUE(exists());  // still the other listener's
  EXPECT_TRUE(unix_socket_listening(path_));
}

TEST_F(PrivateUnixListenerTest, TakesOverAStaleSocketFile) {
  listen_unix(path_, 1).reset();  // a listener that died and left its file
  ASSERT_TRUE(exists());
  PrivateUnixListener listener(path_, 1);
  EXPECT_TRUE(unix_socket_listening(path_));
  EXPECT_EQ(mode() & 0777, 0600u);
}

TEST_F(PrivateUnixListenerTest, NeverRemovesAFileThatIsNotASocket) {
  Fd file(::open(path_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  ASSERT_TRUE(file.valid());
  EXPECT_THROW(PrivateUnixListener(path_, 1), std::runtime_error);
  EXPECT_TRUE(S_ISREG(mode()));
}

TEST_F(PrivateUnixListenerTest, ClosingRemovesTheSocketFileOnce) {
  PrivateUnixListener listener(path_, 1);
  ASSERT_TRUE(exists());
  listener.close();
  EXPECT_FALSE(listener.valid());
  EXPECT_FALSE(exists());
  // Closing again, or destroying, does not remove a file someone else made.
  Fd other = listen_unix(path_, 1);
  listener.close();
  EXPECT_TRUE(exists());
}

TEST_F(PrivateUnixListenerTest, TheDestructorRemovesTheSocketFile) {
  {
    PrivateUnixListener listener(path_, 1);
    PrivateUnixListener moved = std::move(listener);
    EXPECT_FALSE(listener.valid());
    EXPECT_TRUE(moved.valid());
  }
  EXPECT_FALSE(exists());
}

TEST(PrivateUnixListener, AnAbstractNameHasNoFile) {
  std::string name = "@rtether-private-listener-test-" + std::to_string(getpid());
  PrivateUnixListener listener(name, 1);
  EXPECT_TRUE(unix_socket_listening(name));
  Fd client = connect_unix_blocking(name);
  EXPECT_TRUE(client.valid());
  EXPECT_THROW(PrivateUnixListener(name, 1), std::runtime_error);  // bind: in use
}

}  // namespace
}  // namespace rtether::io
