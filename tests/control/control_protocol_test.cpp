// The control protocol's lines: requests parse strictly (one object, a
// known command, its members only, a valid rule, bounded size), format back
// to what parses the same, and replies carry what the relay reported.
#include <gtest/gtest.h>

#include <string>

#include "control/control_path.hpp"
#include "control/control_protocol.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::control {
namespace {

using nlohmann::json;

std::string refusal(std::string_view line) {
  std::string error;
  EXPECT_FALSE(parse_request(line, error)) << line;
  return error;
}

TEST(ControlRequest, StatusAndListTakeNoRule) {
  std::string error;
  auto status = parse_request(R"({"command":"status"})", error);
  ASSERT_TRUE(status) << error;
  EXPECT_EQ(status->command, Command::Status);
  auto list = parse_request(R"({ "command" : "forward-list" })", error);
  ASSERT_TRUE(list) << error;
  EXPECT_EQ(list->command, Command::ForwardList);
  EXPECT_EQ(refusal(R"({"command":"status","rule":"tcp:1:2"})"),
            "status takes no member \"rule\"");
}

TEST(ControlRequest, ForwardCommandsCarryAParsedRule) {
  std::string error;
  auto add = parse_request(R"({"command":"forward-add","rule":"tcp:8080:80@3"})", error);
  ASSERT_TRUE(add) << error;
  EXPECT_EQ(add->command, Command::ForwardAdd);
  EXPECT_EQ(add->rule.protocol, wire::ip_protocol::kTcp);
  EXPECT_EQ(add->rule.listen.port, 8080);
  EXPECT_EQ(add->rule.device_port, 80);
  EXPECT_EQ(add->rule.client_id, 3u);
  auto remove = parse_request(R"({"command":"forward-remove","rule":"udp:[::1]:5353:53"})", error);
  ASSERT_TRUE(remove) << error;
  EXPECT_EQ(remove->command, Command::ForwardRemove);
  EXPECT_EQ(remove->rule.to_string(), "udp:[::1]:5353:53");
}

TEST(ControlRequest, BadRequestsAreRefusedWithTheReason) {
  EXPECT_EQ(refusal(""), "a request is one JSON object on one line");
  EXPECT_EQ(refusal("status"), "a request is one JSON object on one line");
  EXPECT_EQ(refusal(R"(["status"])"), "a request is one JSON object on one line");
  EXPECT_EQ(refusal(R"({"command":"status"} {})"), "a request is one JSON object on one line");
  EXPECT_EQ(refusal(R"({})"), "the request has no \"command\" string");
  EXPECT_EQ(refusal(R"({"command":7})"), "the request has no \"command\" string");
  EXPECT_EQ(refusal(R"({"command":"reboot"})"),
            "unknown command (status, forward-list, forward-add, forward-remove)");
  EXPECT_EQ(refusal(R"({"command":"forward-add"})"),
            "forward-add needs a \"rule\" string (a --forward value)");
  EXPECT_EQ(refusal(R"({"command":"forward-add","rule":8080})"),
            "forward-add needs a \"rule\" string (a --forward value)");
  EXPECT_EQ(refusal(R"({"command":"forward-add","rule":"sctp:1:2"})"),
            "'sctp:1:2': expected tcp: or udp: first");
  EXPECT_EQ(refusal(R"({"command":"forward-remove","rule":"tcp:1:2","force":true})"),
            "forward-remove takes no member \"force\"");
  // Invalid UTF-8 inside a string is not JSON.
  EXPECT_EQ(refusal("{\"command\":\"st\xff\"}"), "a request is one JSON object on one line");
}

TEST(ControlRequest, ARequestIsBounded) {
  std::string padded = R"({"command":"status","pad":")" + std::string(kMaxRequestBytes, 'x') +
                       "\"}";
  EXPECT_EQ(refusal(padded), "request longer than 4095 bytes");
}

TEST(ControlRequest, FormattedRequestsParseBackTheSame) {
  Request add;
  add.command = Command::ForwardAdd;
  std::string error;
  add.rule = *relay::parse_forward_rule("tcp:[::1]:2222:22@1", error);
  EXPECT_EQ(format_request(add), R"({"command":"forward-add","rule":"tcp:[::1]:2222:22@1"})");
  auto again = parse_request(format_request(add), error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->rule.to_string(), add.rule.to_string());
  EXPECT_EQ(format_request(Request{}), R"({"command":"status"})");
}

TEST(ControlReply, StatusCarriesClientsFlowsTotalsAndForwards) {
  StatusSnapshot status;
  relay::ClientStats client;
  client.id = 2;
  client.serial = "0123456789ABCDEF";
  client.thread = 1;
  client.open_flows = 5;
  client.bytes_from_device = 1000;
  client.bytes_to_device = 2000;
  client.packets_from_device = 10;
  client.packets_to_device = 20;
  status.clients.push_back(client);
  relay::ClientStats queue;  // a direct-mode namespace's second queue of two
  queue.id = 3;
  queue.queue = {1, 2};
  status.clients.push_back(queue);
  status.totals.bytes_from_device = 1500;
  status.totals.drop_flow_limit = 3;
  status.flows = 6;
  std::string error;
  status.forwards.push_back(*relay::parse_forward_rule("udp:5353:53", error));
  auto reply = parse_reply(status_reply(status), error);
  ASSERT_TRUE(reply) << error;
  const json& value = *reply;
  ASSERT_EQ(value["clients"].size(), 2u);
  EXPECT_EQ(value["clients"][0]["id"], 2);
  EXPECT_EQ(value["clients"][0]["thread"], 1);
  EXPECT_FALSE(value["clients"][0].contains("queue"));  // one queue, or a stream
  EXPECT_EQ(value["clients"][1]["queue"], json({{"index", 1}, {"count", 2}}));
  EXPECT_EQ(value["clients"][0]["serial"], "0123456789ABCDEF");
  EXPECT_EQ(value["clients"][0]["open_flows"], 5);
  EXPECT_EQ(value["clients"][0]["bytes_from_device"], 1000);
  EXPECT_EQ(value["clients"][0]["bytes_to_device"], 2000);
  EXPECT_EQ(value["clients"][0]["packets_from_device"], 10);
  EXPECT_EQ(value["clients"][0]["packets_to_device"], 20);
  EXPECT_EQ(value["flows"], 6);
  EXPECT_EQ(value["totals"]["bytes_from_device"], 1500);
  EXPECT_EQ(value["totals"]["drop_flow_limit"], 3);
  EXPECT_EQ(value["totals"]["bytes_to_device"], 0);  // every counter, zero ones too
  EXPECT_EQ(value["forwards"], json::array({"udp:127.0.0.1:5353:53"}));
}

TEST(ControlReply, ForwardRepliesNameTheCanonicalRule) {
  std::string error;
  auto rule = *relay::parse_forward_rule("tcp:8080:80", error);
  auto added = parse_reply(forward_reply(rule), error);
  ASSERT_TRUE(added) << error;
  EXPECT_EQ((*added)["forward"], "tcp:127.0.0.1:8080:80");
  auto listed = parse_reply(forward_list_reply({rule, rule}), error);
  ASSERT_TRUE(listed) << error;
  EXPECT_EQ((*listed)["forwards"].size(), 2u);
}

TEST(ControlReply, ARefusalGivesTheRelaysMessage) {
  std::string error;
  EXPECT_FALSE(parse_reply(error_reply("port in use"), error));
  EXPECT_EQ(error, "port in use");
  EXPECT_FALSE(parse_reply("not json", error));
  EXPECT_EQ(error, "the relay's reply is not a JSON object");
  EXPECT_FALSE(parse_reply(R"({"clients":[]})", error));
  EXPECT_EQ(error, "the relay's reply has no \"ok\"");
  EXPECT_FALSE(parse_reply(R"({"ok":false})", error));
  EXPECT_EQ(error, "the relay refused the request");
}

TEST(ControlPath, DefaultsFollowTheRuntimeFolder) {
  EXPECT_EQ(default_control_path(nullptr, "/run/user/1000", 1000),
            "/run/user/1000/rtether/control");
  EXPECT_EQ(default_control_path(nullptr, "/run/user/0", 0), "/run/user/0/rtether/control");
  EXPECT_EQ(default_control_path(nullptr, nullptr, 0), "/run/rtether/control");
  EXPECT_EQ(default_control_path(nullptr, nullptr, 1000), "/tmp/rtether-1000/control");
  // Relative values are to be ignored (XDG Base Directory Specification).
  EXPECT_EQ(default_control_path(nullptr, "run/user", 1000), "/tmp/rtether-1000/control");
  EXPECT_EQ(default_control_path(nullptr, "", 0), "/run/rtether/control");
  // A systemd service's RuntimeDirectory= (the packaged units': /run/rtether,
  // whatever the dynamic user's uid) comes first; of several, the first.
  EXPECT_EQ(default_control_path("/run/rtether", "/run/user/61234", 61234),
            "/run/rtether/control");
  EXPECT_EQ(default_control_path("/run/rtether:/run/other", nullptr, 61234),
            "/run/rtether/control");
  EXPECT_EQ(default_control_path("run/rtether", nullptr, 61234), "/tmp/rtether-61234/control");
  EXPECT_EQ(control_folder("/run/rtether/control"), "/run/rtether");
  EXPECT_EQ(control_folder("control"), "");
}

}  // namespace
}  // namespace rtether::control
