// Fuzz target: the management protocol's parsers, both directions. The
// input is a byte stream from a peer, cut at a point taken from its first
// byte. As a daemon: LineReader -> ManagementCore (with a NEED-OK pending,
// so needok, hold, signal, state... all run). As a UI: the same lines go to
// the real-time parsers (PROXY, PASSWORD and PK_SIGN too), a UiSession
// whose device fails every request and one whose profile answers all.
// A second core asks for a password (PWFILE); the first line that is not
// "pw" counts as a wrong one, so verb, mute, load-stats and status N run
// once "pw" came.
// Invariants: no line longer than the limit, splitting is stable through
// quote_argument, every reply ends in "\r\n", nothing but the prompt goes
// out before the password, a tun payload that parses formats to text that
// parses back to the same text, PK_SIGN data encodes back to its base64,
// nothing crashes or hangs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/base64.hpp"
#include "mgmt/line_reader.hpp"
#include "mgmt/management_core.hpp"
#include "mgmt/messages.hpp"
#include "mgmt/tun_payloads.hpp"
#include "mgmt/ui_profile.hpp"
#include "mgmt/ui_queries.hpp"
#include "mgmt/ui_session.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

template <typename Parse>
void require_stable(Parse parse, std::string_view payload) {
  auto parsed = parse(payload);
  if (!parsed) return;
  std::string text = rtether::mgmt::format_payload(*parsed);
  auto again = parse(text);
  require(again && rtether::mgmt::format_payload(*again) == text);
}

class RefusingDevice final : public rtether::mgmt::UiDevice {
 public:
  rtether::io::Fd open_tun(const rtether::mgmt::TunConfig&, std::string& error) override {
    error = "fuzzing";
    return {};
  }
  bool protect(int, std::string& detail) override {
    detail = "fuzzing";
    return false;
  }
};

class AnsweringProfile final : public rtether::mgmt::UiProfile {
 public:
  std::optional<rtether::mgmt::ProxySetting> proxy() const override {
    return rtether::mgmt::ProxySetting{rtether::mgmt::ProxySetting::Kind::Http, "proxy", "3128"};
  }
  std::optional<rtether::mgmt::UiCredentials> credentials(const rtether::mgmt::PasswordQuery&,
                                                          std::string&) override {
    return rtether::mgmt::UiCredentials{"user", "pass"};
  }
  void credentials_refused(const std::string&) override {}
  std::optional<std::vector<std::uint8_t>> sign(const rtether::mgmt::SignRequest& request,
                                                std::string&) override {
    return request.data;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mgmt = rtether::mgmt;
  if (size < 1) return 0;
  std::size_t cut = size > 1 ? data[0] % size : 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (cut > input.size()) cut = input.size();

  mgmt::LineReader reader;
  auto lines = reader.feed(input.substr(0, cut));
  auto rest = reader.feed(input.substr(cut));
  lines.insert(lines.end(), rest.begin(), rest.end());

  mgmt::ManagementCore core("fuzz", 1, true,
                            {[] { return std::time_t{1}; }, [] { return mgmt::TrafficTotals{}; },
                             [](bool same) { return same ? 3 : -2; }});
  core.on_connect();
  core.begin_need_ok("IFCONFIG", "10.0.0.2 255.255.255.255 1500 subnet");
  mgmt::ManagementCore locked("fuzz", 1, false,
                              {[] { return std::time_t{1}; }, [] { return mgmt::TrafficTotals{}; },
                               nullptr});
  locked.require_password("pw");
  locked.on_connect();
  RefusingDevice device;
  mgmt::UiSession session(device, nullptr);
  session.on_connect();
  AnsweringProfile profile;
  mgmt::UiSession answering(device, nullptr, &profile);
  for (const auto& line : lines) {
    require(line.size() <= mgmt::kMaxLineLength);
    auto split = mgmt::split_command(line);
    if (split.error.empty()) {
      require(split.arguments.size() <= mgmt::kMaxArguments);
      std::string rebuilt;
      for (const auto& argument : split.arguments) rebuilt += mgmt::quote_argument(argument) + " ";
      require(mgmt::split_command(rebuilt).arguments == split.arguments);
    }
    core.handle_line(line);
    core.take_signal();
    core.take_close_request();
    if (core.take_need_ok_answer()) core.begin_need_ok("OPENTUN", "tun");
    for (const auto& chunk : core.output()) {
      require(chunk.text.size() >= 2 && chunk.text.substr(chunk.text.size() - 2) == "\r\n");
    }
    core.output().clear();

    locked.handle_line(line);
    locked.end_of_read();
    locked.log("W", line);
    locked.take_signal();
    for (const auto& chunk : locked.output()) {
      if (!locked.password_needed()) continue;
      constexpr std::string_view kPrompt = "ENTER PASSWORD:";
      require(chunk.text.size() % kPrompt.size() == 0);
      for (std::size_t at = 0; at < chunk.text.size(); at += kPrompt.size()) {
        require(std::string_view(chunk.text).substr(at, kPrompt.size()) == kPrompt);
      }
    }
    locked.output().clear();
    if (locked.take_close_request()) locked.on_connect();

    session.on_line(line, {});
    for (const auto& command : answering.on_line(line, {})) {
      require(!command.line.empty() && command.line.back() == '\n');
    }
    std::string error;
    mgmt::parse_proxy_setting(line, error);
    if (auto realtime = mgmt::parse_realtime(line)) {
      mgmt::parse_proxy_query(realtime->body);
      mgmt::parse_password_query(realtime->body);
      if (auto request = mgmt::parse_sign_request(realtime->body, error)) {
        std::string_view encoded =
            std::string_view(realtime->body).substr(0, realtime->body.find(','));
        require(rtether::wire::base64_encode(request->data) == encoded);
      }
      if (auto state = mgmt::parse_state(realtime->body)) mgmt::format_state(*state);
      mgmt::parse_bytecount(realtime->body);
      if (auto request = mgmt::parse_need_ok(realtime->body)) {
        require(!request->type.empty());
        require_stable(mgmt::parse_ifconfig, request->payload);
        require_stable(mgmt::parse_ifconfig6, request->payload);
        require_stable(mgmt::parse_route, request->payload);
        require_stable(mgmt::parse_route6, request->payload);
      }
    }
  }
  return 0;
}
