// --proxy / --proxy-udp: URLs given, `env` and the variables' order.
#include "cli/proxy_options.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace rtether::cli {
namespace {

EnvironmentLookup environment(std::map<std::string, std::string> variables) {
  return [variables](const char* name) -> std::optional<std::string> {
    auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

TEST(ProxyOptions, NoProxyLeavesTheConfigWithoutOne) {
  relay::RelayConfig config;
  std::string error;
  EXPECT_TRUE(apply_proxy_options({}, environment({}), config, error));
  EXPECT_FALSE(config.proxy);
  EXPECT_EQ(config.proxy_udp, relay::ProxyUdp::Drop);
}

TEST(ProxyOptions, AUrlAndUdpDirect) {
  relay::RelayConfig config;
  std::string error;
  ASSERT_TRUE(
      apply_proxy_options({"http://127.0.0.1:3128", "direct"}, environment({}), config, error));
  ASSERT_TRUE(config.proxy);
  EXPECT_EQ(config.proxy->scheme, relay::ProxyScheme::HttpConnect);
  EXPECT_EQ(config.proxy_udp, relay::ProxyUdp::Direct);
}

TEST(ProxyOptions, EnvTakesTheFirstSetVariableInOrder) {
  relay::RelayConfig config;
  std::string error;
  ASSERT_TRUE(apply_proxy_options({"env", "drop"},
                                  environment({{"ALL_PROXY", ""},
                                               {"HTTPS_PROXY", "socks5://127.0.0.1:1081"},
                                               {"https_proxy", "http://127.0.0.1:3128"},
                                               {"all_proxy", "http://127.0.0.1:3129"}}),
                                  config, error));
  ASSERT_TRUE(config.proxy);
  EXPECT_EQ(config.proxy->to_string(), "socks5://127.0.0.1:1081");
  ASSERT_TRUE(apply_proxy_options(
      {"env", "drop"}, environment({{"all_proxy", "http://127.0.0.1:3129"}}), config, error));
  EXPECT_EQ(config.proxy->to_string(), "http://127.0.0.1:3129");
}

TEST(ProxyOptions, EnvWithNothingSetOrABadValueIsAnError) {
  relay::RelayConfig config;
  std::string error;
  EXPECT_FALSE(apply_proxy_options({"env", "drop"}, environment({}), config, error));
  EXPECT_NE(error.find("none of ALL_PROXY"), std::string::npos);
  EXPECT_FALSE(apply_proxy_options(
      {"env", "drop"}, environment({{"https_proxy", "proxy.example:3128"}}), config, error));
  EXPECT_EQ(error.rfind("https_proxy: ", 0), 0u) << error;
}

TEST(ProxyOptions, AHostNameIsResolvedOnceAtStartToItsFirstAddress) {
  relay::RelayConfig config;
  std::string error;
  std::vector<std::string> asked;
  auto resolver = [&asked](const std::string& name, std::string&) {
    asked.push_back(name);
    return std::vector<wire::IpAddress>{wire::IpAddress::v4(0xc6336401),
                                        wire::IpAddress::v4(0xc6336402)};
  };
  ASSERT_TRUE(apply_proxy_options({"socks5://proxy.example:1080", "drop"}, environment({}), config,
                                  error, resolver))
      << error;
  ASSERT_TRUE(config.proxy);
  EXPECT_EQ(asked, std::vector<std::string>{"proxy.example"});
  EXPECT_EQ(config.proxy->address.address.to_string(), "198.51.100.1");
  EXPECT_EQ(config.proxy->address.port, 1080);
  asked.clear();
  ASSERT_TRUE(apply_proxy_options({"socks5://198.51.100.9:1080", "drop"}, environment({}), config,
                                  error, resolver));
  EXPECT_TRUE(asked.empty()) << "an address is not resolved";
}

TEST(ProxyOptions, AHostNameThatDoesNotResolveIsAnErrorNamingIt) {
  relay::RelayConfig config;
  std::string error;
  auto resolver = [](const std::string&, std::string& why) {
    why = "Name or service not known";
    return std::vector<wire::IpAddress>{};
  };
  EXPECT_FALSE(apply_proxy_options({"http://nowhere.invalid:3128", "drop"}, environment({}),
                                   config, error, resolver));
  EXPECT_EQ(error,
            "--proxy: the proxy's host \"nowhere.invalid\" does not resolve: Name or service not "
            "known");
  EXPECT_FALSE(config.proxy);
}

}  // namespace
}  // namespace rtether::cli
