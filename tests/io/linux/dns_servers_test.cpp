// The host's DNS servers: a resolv.conf file read through the pure parser,
// the errors of a missing or oversized file, and /etc/resolv.conf as the
// Linux host's own list.
#include "io/dns_servers.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <stdexcept>
#include <string>

namespace rtether::io {
namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char path[] = "/tmp/rtether-resolv-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp");
    path_ = path;
    EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<long>(text.size()));
    ::close(fd);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DnsServers, AResolvConfFileGivesItsNameservers) {
  TempFile file("search example.org\nnameserver 127.0.0.53\nnameserver ::1\n");
  auto servers = read_resolv_conf(file.path());
  ASSERT_TRUE(servers) << servers.error().message();
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ((*servers)[0].to_string(), "127.0.0.53");
  EXPECT_EQ((*servers)[1].to_string(), "::1");
}

TEST(DnsServers, AMissingFileIsAnError) {
  auto servers = read_resolv_conf("/nonexistent/rtether/resolv.conf");
  ASSERT_FALSE(servers);
  EXPECT_EQ(servers.error(), std::errc::no_such_file_or_directory);
}

TEST(DnsServers, AFileOfMoreThan64KibIsRefused) {
  TempFile file("nameserver 192.0.2.1\n" + std::string(64 * 1024, '#'));
  auto servers = read_resolv_conf(file.path());
  ASSERT_FALSE(servers);
  EXPECT_EQ(servers.error(), std::errc::file_too_large);
}

TEST(DnsServers, TheLinuxHostsServersAreThoseOfEtcResolvConf) {
  auto file = read_resolv_conf("/etc/resolv.conf");
  ASSERT_TRUE(file) << "this host's /etc/resolv.conf: " << file.error().message();
  auto host = host_dns_servers();
  ASSERT_TRUE(host) << host.error().message();
  EXPECT_EQ(*host, *file);
}

}  // namespace
}  // namespace rtether::io
