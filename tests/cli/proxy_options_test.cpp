// --proxy / --proxy-udp: URLs given, `env` and the variables' order.
#include "cli/proxy_options.hpp"

#include <gtest/gtest.h>

#include <map>

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

}  // namespace
}  // namespace rtether::cli
