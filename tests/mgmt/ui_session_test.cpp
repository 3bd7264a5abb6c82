// UiSession answers the recorded daemons as ics-openvpn did: the daemon's
// lines of the android transcripts go in, and the UI's recorded replies
// must come out (NEED-OK answers, hold handling, persist decisions).
#include "mgmt/ui_session.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "mgmt/line_reader.hpp"
#include "mgmt/transcript.hpp"
#include "mgmt/ui_profile.hpp"

namespace rtether::mgmt {
namespace {

class FakeDevice final : public UiDevice {
 public:
  io::Fd open_tun(const TunConfig& config, std::string& error) override {
    configs.push_back(config);
    if (refuse) {
      error = "refused";
      return {};
    }
    return io::Fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  bool protect(int fd, std::string& detail) override {
    protected_fds.push_back(fd);
    detail = "fake";
    return true;
  }
  std::vector<TunConfig> configs;
  std::vector<int> protected_fds;
  bool refuse = false;
};

std::vector<std::string> lines_of(const std::vector<UiCommand>& commands) {
  std::vector<std::string> lines;
  for (const auto& command : commands) lines.push_back(command.line.substr(0, command.line.size() - 1));
  return lines;
}

template <typename Value>
std::vector<std::string> texts(const std::vector<Value>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) out.push_back(value.to_string());
  return out;
}

// Feeds every daemon line of a transcript and collects the UI's needok
// answers; compares them with the recorded ones.
void replay_needoks(const std::string& name, FakeDevice& device) {
  UiSession session(device, nullptr);
  std::vector<std::string> ours;
  std::vector<std::string> recorded;
  for (const auto& event : testing::read_transcript(name)) {
    if (event.from_daemon) {
      for (const auto& line : testing::crlf_lines(event.bytes)) {
        io::Fd fd;
        if (line.find("'PROTECTFD'") != std::string::npos) fd = io::Fd(open("/dev/null", O_RDONLY));
        for (auto& command : session.on_line(line, std::move(fd))) {
          std::string text = command.line.substr(0, command.line.size() - 1);
          if (text.rfind("needok", 0) == 0) ours.push_back(text);
          if (text == "needok 'OPENTUN' ok") {
            EXPECT_TRUE(command.fd.valid());
          }
        }
      }
    } else {
      LineReader reader;
      for (const auto& line : reader.feed(event.bytes)) {
        if (line.rfind("needok", 0) == 0) recorded.push_back(line);
      }
    }
  }
  EXPECT_EQ(ours, recorded) << name;
}

TEST(UiSessionTranscript, AnswersThePersistSessionAsIcsOpenvpnDid) {
  // Second round: same configuration, so NOACTION and no OPENTUN.
  FakeDevice device;
  replay_needoks("transcript-android-persist.txt", device);
  ASSERT_EQ(device.configs.size(), 1u);
  const auto& config = device.configs[0];
  ASSERT_TRUE(config.ipv4);
  EXPECT_EQ(config.ipv4->to_string(), "10.8.0.2/30");  // net30: the peer's /30
  ASSERT_TRUE(config.ipv6);
  EXPECT_EQ(config.ipv6->to_string(), "fd00::2/64");
  EXPECT_EQ(config.mtu, 1400);
  // 192.168.77.0/24 goes through the peer 10.8.0.1; 10.99.0.0/16 is a
  // net_gateway route (127.100.103.119 dev android-gw): around the tun.
  EXPECT_EQ(texts(config.routes), (std::vector<std::string>{"192.168.77.0/24", "fd01::/64"}));
  EXPECT_EQ(texts(config.bypass_routes), (std::vector<std::string>{"10.99.0.0/16"}));
  EXPECT_EQ(texts(config.dns), (std::vector<std::string>{"fd00::53", "10.8.0.53"}));
  EXPECT_EQ(config.domain, "example.test");
  EXPECT_EQ(device.protected_fds.size(), 2u);
}

TEST(UiSessionTranscript, AnswersThePullSessionAsIcsOpenvpnDid) {
  // The pushed configuration is asked for twice, the same both times: the
  // recorded app said OPEN_BEFORE_CLOSE the second time, having closed its
  // tun on pause; ours keeps it. Only that answer may differ.
  FakeDevice device;
  UiSession session(device, nullptr);
  int persist_noaction = 0;
  for (const auto& event : testing::read_transcript("transcript-android-pull.txt")) {
    if (!event.from_daemon) continue;
    for (const auto& line : testing::crlf_lines(event.bytes)) {
      for (const auto& text : lines_of(session.on_line(line, {}))) {
        if (text == "needok 'PERSIST_TUN_ACTION' NOACTION") ++persist_noaction;
      }
    }
  }
  // The replayed daemon asks OPENTUN again anyway (its app had said
  // OPEN_BEFORE_CLOSE): the UI still builds the same configuration.
  ASSERT_EQ(device.configs.size(), 2u);
  EXPECT_EQ(device.configs[0], device.configs[1]);
  ASSERT_TRUE(device.configs[0].ipv4);
  EXPECT_EQ(device.configs[0].ipv4->length, 24);  // subnet topology: the netmask counts
  EXPECT_EQ(texts(device.configs[0].routes),
            (std::vector<std::string>{"0.0.0.0/1", "128.0.0.0/1", "192.168.88.0/24", "fd10::/64"}));
  EXPECT_EQ(persist_noaction, 1);
}

TEST(UiSession, GreetsReleasesHoldAndHonoursPause) {
  FakeDevice device;
  UiSession session(device, nullptr);
  EXPECT_EQ(lines_of(session.on_connect()),
            (std::vector<std::string>{"version 3", "bytecount 2", "state on"}));
  EXPECT_EQ(lines_of(session.on_line(">HOLD:Waiting for hold release:0", {})),
            (std::vector<std::string>{"hold release", "bytecount 2", "state on"}));
  EXPECT_EQ(lines_of(session.pause()), (std::vector<std::string>{"signal SIGUSR1"}));
  EXPECT_TRUE(session.on_line(">HOLD:Waiting for hold release:2", {}).empty());
  EXPECT_EQ(lines_of(session.resume()), (std::vector<std::string>{"hold release"}));
  EXPECT_EQ(lines_of(session.stop()), (std::vector<std::string>{"signal SIGINT"}));
}

TEST(UiSession, RefusesWhatItCannotUse) {
  FakeDevice device;
  device.refuse = true;
  UiSession session(device, nullptr);
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'IFCONFIG' confirmation MSG:10.0.0.2", {})),
            (std::vector<std::string>{"needok 'IFCONFIG' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(
                ">NEED-OK:Need 'ROUTE' confirmation MSG:10.0.0.0 255.0.255.0 10.0.0.1", {})),
            (std::vector<std::string>{"needok 'ROUTE' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(
                ">NEED-OK:Need 'IFCONFIG' confirmation MSG:10.0.0.999 10.0.0.1 1500 net30", {})),
            (std::vector<std::string>{"needok 'IFCONFIG' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'ROUTE6' confirmation MSG:fd01:: dev", {})),
            (std::vector<std::string>{"needok 'ROUTE6' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'DNSSERVER' confirmation MSG:dns.example", {})),
            (std::vector<std::string>{"needok 'DNSSERVER' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'FROB' confirmation MSG:x", {})),
            (std::vector<std::string>{"needok 'FROB' cancel"}));
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'OPENTUN' confirmation MSG:tun", {})),
            (std::vector<std::string>{"needok 'OPENTUN' cancel"}));
  EXPECT_TRUE(session.failed());
  EXPECT_TRUE(session.on_line(">NEED-OK:garbage", {}).empty());
  session.on_line(">STATE:1,CONNECTED,SUCCESS,10.0.0.2,127.0.0.1,31416,,", {});
  ASSERT_TRUE(session.state());
  EXPECT_EQ(session.state()->name, "CONNECTED");
  session.on_line(">BYTECOUNT:10,20", {});
  ASSERT_TRUE(session.bytes());
  EXPECT_EQ(session.bytes()->bytes_out, 20u);
}

class FakeProfile final : public UiProfile {
 public:
  std::optional<ProxySetting> proxy() const override { return proxy_setting; }
  std::optional<UiCredentials> credentials(const PasswordQuery& query,
                                           std::string& error) override {
    asked.push_back(query.type);
    if (!credentials_given) error = "none here";
    return credentials_given;
  }
  void credentials_refused(const std::string& type) override { refused.push_back(type); }
  std::optional<std::vector<std::uint8_t>> sign(const SignRequest& request,
                                                std::string& error) override {
    signed_algorithms.push_back(request.algorithm.name);
    if (!signature) error = "no key";
    return signature;
  }
  std::optional<ProxySetting> proxy_setting;
  std::optional<UiCredentials> credentials_given;
  std::optional<std::vector<std::uint8_t>> signature;
  std::vector<std::string> asked, refused, signed_algorithms;
};

// The lines below are the ones OpenVPN master 3de92608 (FAKE_ANDROID) sent
// in tests/e2e/test_openvpn.py.
TEST(UiSessionQueries, AnswersProxyWithNoneOrTheConfiguredProxy) {
  FakeDevice device;
  FakeProfile profile;
  UiSession session(device, nullptr, &profile);
  EXPECT_EQ(lines_of(session.on_line(">PROXY:1,UDP,192.0.2.1", {})),
            std::vector<std::string>{"proxy NONE"});
  profile.proxy_setting = ProxySetting{ProxySetting::Kind::Socks, "192.0.2.9", "1080"};
  EXPECT_EQ(lines_of(session.on_line(">PROXY:1,UDP,192.0.2.1", {})),
            std::vector<std::string>{"proxy SOCKS '192.0.2.9' '1080'"});
  // OpenVPN takes an HTTP proxy for TCP only.
  profile.proxy_setting = ProxySetting{ProxySetting::Kind::Http, "proxy.example", "3128"};
  EXPECT_EQ(lines_of(session.on_line(">PROXY:1,UDP,192.0.2.1", {})),
            std::vector<std::string>{"proxy NONE"});
  EXPECT_EQ(lines_of(session.on_line(">PROXY:2,TCP,vpn.example.com", {})),
            std::vector<std::string>{"proxy HTTP 'proxy.example' '3128'"});
  UiSession without_profile(device, nullptr);
  EXPECT_EQ(lines_of(without_profile.on_line(">PROXY:1,UDP,192.0.2.1", {})),
            std::vector<std::string>{"proxy NONE"});
}

TEST(UiSessionQueries, AnswersPasswordsFromTheProfileOrStopsTheDaemon) {
  FakeDevice device;
  FakeProfile profile;
  profile.credentials_given = UiCredentials{"alice", "s3cret pass"};
  UiSession session(device, nullptr, &profile);
  EXPECT_EQ(lines_of(session.on_line(">PASSWORD:Need 'Auth' username/password", {})),
            (std::vector<std::string>{"username 'Auth' 'alice'", "password 'Auth' 's3cret pass'"}));
  EXPECT_EQ(lines_of(session.on_line(">PASSWORD:Need 'Private Key' password", {})),
            std::vector<std::string>{"password 'Private Key' 's3cret pass'"});
  EXPECT_EQ(profile.asked, (std::vector<std::string>{"Auth", "Private Key"}));
  EXPECT_FALSE(session.failed());
  EXPECT_TRUE(session.on_line(">PASSWORD:Verification Failed: 'Auth'", {}).empty());
  EXPECT_EQ(profile.refused, std::vector<std::string>{"Auth"});
  EXPECT_TRUE(session.failed());
  profile.credentials_given.reset();
  UiSession unanswered(device, nullptr, &profile);
  EXPECT_EQ(lines_of(unanswered.on_line(">PASSWORD:Need 'Auth' username/password", {})),
            std::vector<std::string>{"signal SIGTERM"});
  EXPECT_TRUE(unanswered.failed());
}

TEST(UiSessionQueries, AnswersPkSignWithTheSignatureInBase64Lines) {
  FakeDevice device;
  FakeProfile profile;
  profile.signature = std::vector<std::uint8_t>{'s', 'i', 'g'};
  UiSession session(device, nullptr, &profile);
  EXPECT_EQ(lines_of(session.on_line(
                ">PK_SIGN:uYXfNnjnHjNg/1bjny7B6n2NrviRcz0nwSVDNPSqZiM=,RSA_PKCS1_PSS_PADDING,"
                "hashalg=SHA256,saltlen=digest",
                {})),
            (std::vector<std::string>{"pk-sig", "c2ln", "END"}));
  EXPECT_EQ(profile.signed_algorithms, std::vector<std::string>{"RSA_PKCS1_PSS_PADDING"});
  profile.signature.reset();
  EXPECT_EQ(
      lines_of(session.on_line(">PK_SIGN:hKY1k2cprq//GS42gc+TgLBHPkkFbOhl3GUnVE8DrQc=,ECDSA", {})),
      std::vector<std::string>{"signal SIGTERM"});
  EXPECT_TRUE(session.failed());
}

TEST(UiSessionNeedOk, TakesHttpProxyAndOpensOnlyATun) {
  FakeDevice device;
  UiSession session(device, nullptr);
  EXPECT_EQ(
      lines_of(session.on_line(">NEED-OK:Need 'HTTPPROXY' confirmation MSG:192.0.2.1 3128", {})),
      std::vector<std::string>{"needok 'HTTPPROXY' ok"});
  EXPECT_EQ(lines_of(session.on_line(">NEED-OK:Need 'OPENTUN' confirmation MSG:tap", {})),
            std::vector<std::string>{"needok 'OPENTUN' cancel"});
  EXPECT_TRUE(device.configs.empty());
  EXPECT_TRUE(session.failed());
}

TEST(UiSessionNeedOk, KeepsNetGatewayRoutesOffTheTunByIcsOpenvpnsRule) {
  FakeDevice device;
  UiSession session(device, nullptr);
  for (const char* line :
       {">NEED-OK:Need 'IFCONFIG' confirmation MSG:10.8.0.2 255.255.255.0 1500 subnet",
        // Recorded (redirect-gateway def1 and a net_gateway route).
        ">NEED-OK:Need 'ROUTE' confirmation MSG:0.0.0.0 128.0.0.0 10.8.0.1 dev android-gw",
        ">NEED-OK:Need 'ROUTE' confirmation MSG:198.51.100.0 255.255.255.0 127.100.103.119 dev "
        "android-gw",
        // A gateway outside the tun's network, no tun device: not the VPN's.
        ">NEED-OK:Need 'ROUTE' confirmation MSG:192.0.2.0 255.255.255.0 192.168.1.1",
        // rtether's daemon: its own device name.
        ">NEED-OK:Need 'ROUTE' confirmation MSG:203.0.113.0 255.255.255.0 10.0.0.1 dev "
        "vpnservice-tun",
        ">NEED-OK:Need 'ROUTE6' confirmation MSG:fd01::/64 (null)",
        ">NEED-OK:Need 'ROUTE6' confirmation MSG:2001:db8::/32 android-gw",
        ">NEED-OK:Need 'OPENTUN' confirmation MSG:tun"}) {
    session.on_line(line, {});
  }
  ASSERT_EQ(device.configs.size(), 1u);
  EXPECT_EQ(device.configs[0].ipv4->to_string(), "10.8.0.2/24");
  EXPECT_EQ(texts(device.configs[0].routes),
            (std::vector<std::string>{"0.0.0.0/1", "203.0.113.0/24", "fd01::/64"}));
  EXPECT_EQ(texts(device.configs[0].bypass_routes),
            (std::vector<std::string>{"198.51.100.0/24", "192.0.2.0/24", "2001:db8::/32"}));
}

}  // namespace
}  // namespace rtether::mgmt
