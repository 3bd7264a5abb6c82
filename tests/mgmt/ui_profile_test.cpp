// --proxy's URL-like text, as parse_proxy_setting reads it.
#include "mgmt/ui_profile.hpp"

#include <gtest/gtest.h>

namespace rtether::mgmt {
namespace {

TEST(ProxySetting, ReadsHttpAndSocksHostsAndPorts) {
  std::string error;
  auto http = parse_proxy_setting("http://proxy.example:8080", error);
  ASSERT_TRUE(http) << error;
  EXPECT_EQ(*http, (ProxySetting{ProxySetting::Kind::Http, "proxy.example", "8080"}));
  auto socks = parse_proxy_setting("socks5://192.0.2.1:1080/", error);
  ASSERT_TRUE(socks) << error;
  EXPECT_EQ(*socks, (ProxySetting{ProxySetting::Kind::Socks, "192.0.2.1", "1080"}));
  auto v6 = parse_proxy_setting("socks://[2001:db8::1]:1080", error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->host, "2001:db8::1");
}

TEST(ProxySetting, RefusesWhatIsNotSchemeHostPort) {
  std::string error;
  for (const char* text :
       {"proxy.example:8080", "ftp://proxy.example:21", "http://proxy.example", "http://:8080",
        "http://proxy.example:0", "http://proxy.example:65536", "http://proxy.example:80x",
        "http://[2001:db8::1]1080", "http://pro xy:80"}) {
    error.clear();
    EXPECT_FALSE(parse_proxy_setting(text, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

}  // namespace
}  // namespace rtether::mgmt
