// Tests for the tun and its configuration (runs as root): a tun created
// inside a test namespace by LinuxTunBuilder, checked from outside with
// iproute2, and LinkConfigurator's refusals; nothing may be left behind.
#include "device/tun_builder.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "device/link_configurator.hpp"
#include "scoped_netns.hpp"

namespace rtether::device {
namespace {

wire::IpPrefix prefix(const char* text) {
  std::string error;
  auto parsed = wire::parse_prefix(text, error);
  EXPECT_TRUE(parsed) << error;
  return *parsed;
}

wire::IpAddress address(const char* text) { return prefix(text).address; }

bool path_exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

TEST(LinuxTunBuilder, ConfiguresMtuAddressesAndRoutesInsideTheNamespace) {
  ScopedNetns netns("builder");
  {
    LinuxTunBuilder builder("rtt0", netns.name());
    builder.set_mtu(65520);
    builder.add_address(prefix("10.0.0.2/32"));
    builder.add_address(prefix("fd00::2/128"));
    builder.add_route(prefix("0.0.0.0/0"));
    builder.add_route(prefix("198.51.100.7/24"));
    builder.add_route(prefix("::/0"));
    builder.add_dns(address("192.0.2.53"));
    int fd = builder.establish();
    EXPECT_GE(fd, 0);
    EXPECT_EQ(builder.tun().name(), "rtt0");

    std::string ip = "ip -n " + netns.name() + " -j ";
    std::string link = command_output(ip + "link show dev rtt0");
    EXPECT_NE(link.find("\"mtu\":65520"), std::string::npos) << link;
    EXPECT_NE(link.find("\"UP\""), std::string::npos) << link;
    std::string addresses = command_output(ip + "addr show dev rtt0");
    EXPECT_NE(addresses.find("\"local\":\"10.0.0.2\",\"prefixlen\":32"), std::string::npos)
        << addresses;
    EXPECT_NE(addresses.find("\"local\":\"fd00::2\",\"prefixlen\":128"), std::string::npos)
        << addresses;
    std::string routes = command_output(ip + "route show dev rtt0");
    EXPECT_NE(routes.find("\"dst\":\"default\""), std::string::npos) << routes;
    EXPECT_NE(routes.find("\"dst\":\"198.51.100.0/24\""), std::string::npos) << routes;
    std::string routes6 = command_output(ip + "-6 route show dev rtt0");
    EXPECT_NE(routes6.find("\"dst\":\"default\""), std::string::npos) << routes6;
    EXPECT_EQ(command_output("ip netns exec " + netns.name() +
                             " cat /proc/sys/net/ipv6/conf/rtt0/disable_ipv6"),
              "0\n");

    // The tun lives in the test namespace only.
    EXPECT_EQ(command_output("ip -j link show dev rtt0 2>/dev/null").find("rtt0"),
              std::string::npos);
    std::string resolv = std::string(kNetnsEtcDir) + "/" + netns.name() + "/resolv.conf";
    EXPECT_EQ(command_output("cat " + resolv),
              "# written by rtether client, removed when it exits\nnameserver 192.0.2.53\n");
  }
  // Builder gone: tun and resolv.conf gone with it.
  EXPECT_EQ(command_output("ip -n " + netns.name() + " -j link show").find("rtt0"),
            std::string::npos);
  EXPECT_FALSE(path_exists(std::string(kNetnsEtcDir) + "/" + netns.name()));
}

TEST(LinuxTunBuilder, ExplainsARouteTheKernelRefuses) {
  ScopedNetns netns("badroute");
  LinuxTunBuilder builder("rtt0", netns.name());
  builder.set_mtu(1280);
  builder.add_route(prefix("192.0.2.0/24"));
  builder.add_route(prefix("192.0.2.0/24"));
  try {
    builder.establish();
    FAIL() << "a duplicate route was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "netlink: add route 192.0.2.0/24 dev rtt0: File exists");
  }
}

TEST(LinuxTunBuilder, LeavesTheHostResolvConfAloneInTheDefaultNamespace) {
  ScopedNetns netns("default");
  NetnsGuard inside(netns.name());
  // With no netns name the builder uses the calling thread's namespace.
  std::string host_resolv_conf = command_output("cat /etc/resolv.conf");
  LinuxTunBuilder builder("rtt1", "");
  builder.add_address(prefix("10.0.0.2/32"));
  builder.add_dns(address("192.0.2.53"));
  builder.establish();
  EXPECT_EQ(command_output("cat /etc/resolv.conf"), host_resolv_conf);
  EXPECT_NE(command_output("ip -n " + netns.name() + " -j addr show dev rtt1").find("10.0.0.2"),
            std::string::npos);
}

TEST(LinuxTunBuilder, SplitsTheDefaultRouteInTheDefaultNamespaceToKeepTheHostOne) {
  ScopedNetns netns("def1");
  NetnsGuard inside(netns.name());
  // Stands in for the host's default route, through a second tun.
  LinuxTunBuilder host("rtt9", "");
  host.establish();
  LinkConfigurator links;
  links.add_route(host.tun().index(), address("0.0.0.0"), 0);
  LinuxTunBuilder builder("rtt1", "");
  builder.add_route(prefix("0.0.0.0/0"));
  builder.add_route(prefix("::/0"));
  builder.establish();
  std::string routes = command_output("ip -n " + netns.name() + " -j route show dev rtt1");
  EXPECT_NE(routes.find("\"dst\":\"0.0.0.0/1\""), std::string::npos) << routes;
  EXPECT_NE(routes.find("\"dst\":\"128.0.0.0/1\""), std::string::npos) << routes;
  std::string routes6 = command_output("ip -n " + netns.name() + " -j -6 route show dev rtt1");
  EXPECT_NE(routes6.find("\"dst\":\"::/1\""), std::string::npos) << routes6;
  EXPECT_NE(routes6.find("\"dst\":\"8000::/1\""), std::string::npos) << routes6;
}

TEST(LinuxTunBuilder, TakesRoutesOverFromTheTunItReplaces) {
  ScopedNetns netns("takeover");
  LinuxTunBuilder old_tun("rtt2", netns.name());
  old_tun.add_route(prefix("0.0.0.0/0"));
  old_tun.add_route(prefix("::/0"));
  old_tun.establish();
  LinuxTunBuilder refused("rtt3", netns.name());
  refused.add_route(prefix("0.0.0.0/0"));
  EXPECT_THROW(refused.establish(), std::runtime_error);
  LinuxTunBuilder new_tun("rtt3", netns.name());
  new_tun.add_route(prefix("0.0.0.0/0"));
  new_tun.add_route(prefix("::/0"));
  new_tun.take_over_routes();
  new_tun.establish();
  std::string ip = "ip -n " + netns.name() + " -j ";
  EXPECT_NE(command_output(ip + "route show dev rtt3").find("\"dst\":\"default\""),
            std::string::npos);
  EXPECT_NE(command_output(ip + "-6 route show dev rtt3").find("\"dst\":\"default\""),
            std::string::npos);
  EXPECT_EQ(command_output(ip + "route show dev rtt2").find("default"), std::string::npos);
}

TEST(LinuxTunBuilder, TurnsIpv6OffBeforeTheLinkComesUpWhenGivenNoIpv6) {
  ScopedNetns netns("noipv6");
  LinuxTunBuilder builder("rtt5", netns.name());
  builder.add_address(prefix("10.0.0.2/32"));
  builder.add_route(prefix("0.0.0.0/0"));
  builder.establish();
  std::string ip = "ip -n " + netns.name() + " -j ";
  EXPECT_NE(command_output(ip + "link show dev rtt5").find("\"UP\""), std::string::npos);
  EXPECT_EQ(command_output("ip netns exec " + netns.name() +
                           " cat /proc/sys/net/ipv6/conf/rtt5/disable_ipv6"),
            "1\n");
  // Not even a link-local address was made (it would be there once up).
  EXPECT_EQ(command_output(ip + "-6 addr show dev rtt5"), "[]\n");
}

TEST(LinuxTunBuilder, WritesTheSearchDomain) {
  ScopedNetns netns("search");
  LinuxTunBuilder builder("rtt4", netns.name());
  builder.add_dns(address("192.0.2.53"));
  builder.add_search_domain("corp.test");
  builder.establish();
  std::string text = command_output("cat /etc/netns/" + netns.name() + "/resolv.conf");
  EXPECT_NE(text.find("nameserver 192.0.2.53\nsearch corp.test\n"), std::string::npos) << text;
}

TEST(TunDevice, RejectsANameTooLongForTheKernel) {
  EXPECT_THROW(TunDevice::open("a-name-far-too-long-for-ifnamsiz"), std::runtime_error);
}

TEST(LinkConfigurator, NamesTheMissingDeviceInItsError) {
  ScopedNetns netns("nodev");
  NetnsGuard inside(netns.name());
  LinkConfigurator links;
  try {
    links.set_mtu(9999, 1500);
    FAIL() << "an unknown ifindex was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "netlink: set MTU 1500 on ifindex 9999: No such device");
  }
}

TEST(LinkConfigurator, BringsLoopbackUp) {
  ScopedNetns netns("lo");
  {
    NetnsGuard inside(netns.name());
    LinkConfigurator links;
    links.set_up(1);  // lo is always ifindex 1 in a new namespace
  }
  std::string link = command_output("ip -n " + netns.name() + " -j link show dev lo");
  EXPECT_NE(link.find("\"UP\""), std::string::npos) << link;
}

}  // namespace
}  // namespace rtether::device
