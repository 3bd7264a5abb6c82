// Tests for named network namespaces (runs as root): create, enter and leave
// per thread, delete, and the refusals, checked against /run/netns and
// `ip netns list` so nothing is left behind.
#include "device/netns.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "scoped_netns.hpp"

namespace rtether::device {
namespace {

ino_t current_netns_inode() {
  struct stat info {};
  stat("/proc/thread-self/ns/net", &info);
  return info.st_ino;
}

TEST(CreateNetns, MakesANamespaceIproute2Lists) {
  std::string name = unique_netns_name("list");
  create_netns(name);
  EXPECT_TRUE(netns_exists(name));
  EXPECT_NE(command_output("ip netns list").find(name), std::string::npos);
  std::string error;
  EXPECT_TRUE(delete_netns(name, error)) << error;
  EXPECT_FALSE(netns_exists(name));
  EXPECT_EQ(command_output("ip netns list").find(name), std::string::npos);
}

TEST(CreateNetns, RefusesAnExistingName) {
  ScopedNetns netns("twice");
  EXPECT_THROW(create_netns(netns.name()), std::runtime_error);
}

TEST(CreateNetns, RefusesNamesThatAreNotPlainFileNames) {
  EXPECT_THROW(create_netns("../escape"), std::runtime_error);
  EXPECT_THROW(create_netns(""), std::runtime_error);
}

TEST(NetnsGuard, EntersTheNamespaceAndReturnsOnDestruction) {
  ScopedNetns netns("guard");
  ino_t outside = current_netns_inode();
  {
    NetnsGuard inside(netns.name());
    EXPECT_NE(current_netns_inode(), outside);
  }
  EXPECT_EQ(current_netns_inode(), outside);
}

TEST(NetnsGuard, ThrowsForAnUnknownNamespace) {
  ino_t outside = current_netns_inode();
  EXPECT_THROW(NetnsGuard("rtether-test-no-such-namespace"), std::runtime_error);
  EXPECT_EQ(current_netns_inode(), outside);
}

TEST(NetnsTarget, ReadsANameAPathAndAPid) {
  const NetnsTarget named = NetnsTarget::parse("box");
  EXPECT_EQ(named.path, "/run/netns/box");
  EXPECT_EQ(named.name, "box");
  const NetnsTarget path = NetnsTarget::parse("/var/run/netns/box");
  EXPECT_EQ(path.path, "/var/run/netns/box");
  EXPECT_EQ(path.name, "");
  const NetnsTarget pid = NetnsTarget::parse("1234");
  EXPECT_EQ(pid.path, "/proc/1234/ns/net");
  EXPECT_EQ(pid.name, "");
  EXPECT_THROW(NetnsTarget::parse(""), std::runtime_error);
  EXPECT_THROW(NetnsTarget::parse(".."), std::runtime_error);
}

TEST(NetnsGuard, EntersANamespaceByPathAndByPid) {
  ScopedNetns netns("by-path");
  ino_t outside = current_netns_inode();
  ino_t by_path = 0;
  {
    NetnsGuard inside(NetnsTarget::parse(std::string(kNetnsRunDir) + "/" + netns.name()));
    by_path = current_netns_inode();
    EXPECT_NE(by_path, outside);
  }
  // A process that lives in the namespace: its PID names it too.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    NetnsGuard inside(netns.name());
    pause();
    _exit(0);
  }
  ino_t by_pid = 0;
  for (int attempt = 0; attempt < 200 && by_pid != by_path; ++attempt) {
    // The child enters the namespace after fork returns: wait until it has.
    if (attempt > 0) usleep(5000);
    NetnsGuard inside(NetnsTarget::parse(std::to_string(child)));
    by_pid = current_netns_inode();
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(by_pid, by_path);
  EXPECT_EQ(current_netns_inode(), outside);
}

TEST(IsCurrentNetns, TellsOurNamespaceFromAnother) {
  ScopedNetns netns("current");
  EXPECT_TRUE(is_current_netns(NetnsTarget::parse(std::to_string(getpid()))));
  EXPECT_FALSE(is_current_netns(NetnsTarget::named(netns.name())));
  EXPECT_THROW(is_current_netns(NetnsTarget::parse("/nonexistent/netns")), std::runtime_error);
}

TEST(DeleteNetns, ReportsAMissingName) {
  std::string error;
  EXPECT_FALSE(delete_netns("rtether-test-no-such-namespace", error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST(EnterNetnsForExec, BindsTheNamespaceResolvConfOverEtc) {
  ScopedNetns netns("exec");
  std::string directory = std::string(kNetnsEtcDir) + "/" + netns.name();
  mkdir(kNetnsEtcDir, 0755);
  ASSERT_EQ(mkdir(directory.c_str(), 0755), 0);
  FILE* file = std::fopen((directory + "/resolv.conf").c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("nameserver 192.0.2.53\n", file);
  std::fclose(file);

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    if (!enter_netns_for_exec(netns.name(), error)) _exit(2);
    FILE* seen = std::fopen("/etc/resolv.conf", "r");
    char line[64] = {};
    bool ok = seen != nullptr && std::fgets(line, sizeof line, seen) != nullptr &&
              std::string(line) == "nameserver 192.0.2.53\n";
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  unlink((directory + "/resolv.conf").c_str());
  rmdir(directory.c_str());
  rmdir(kNetnsEtcDir);
}

}  // namespace
}  // namespace rtether::device
