// The control socket's protocol (`rtether status`, `rtether forward`):
// one JSON object per line each way, UTF-8, a line ending with '\n'.
//
// Requests:
//   {"command":"status"}
//   {"command":"forward-list"}
//   {"command":"forward-add","rule":"tcp:8080:80"}
//   {"command":"forward-remove","rule":"tcp:8080:80"}
// RULE is a --forward value (relay/forward_rule.hpp). A request is at most
// kMaxRequestBytes with its newline; unknown commands and members, a rule
// that does not parse, or anything but one object are refused.
//
// Replies: {"ok":true, ...} with the command's members, or
// {"ok":false,"error":"MESSAGE"}:
//   status          "clients": [{"id", "serial" ("" when not known),
//                   "thread" (the relay loop it runs on, 0 the first),
//                   "queue": {"index", "count"} (only for a queue of a
//                   multi-queue tun, direct mode), "open_flows",
//                   "bytes_from_device", "bytes_to_device",
//                   "packets_from_device", "packets_to_device"}] by id,
//                   "flows" (live and TIME-WAIT), "totals": {counter: value}
//                   (every relay::Counters field, clients gone included),
//                   "forwards": [RULE]
//   forward-list    "forwards": [RULE] (canonical form, in the order added)
//   forward-add     "forward": RULE
//   forward-remove  "forward": RULE
// Pure: no I/O here (control_server.hpp and control_client.hpp do it).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "relay/counters.hpp"
#include "relay/forward_rule.hpp"
#include "relay/relay.hpp"

namespace rtether::control {

inline constexpr std::size_t kMaxRequestBytes = 4096;

enum class Command { Status, ForwardList, ForwardAdd, ForwardRemove };

struct Request {
  Command command = Command::Status;
  relay::ForwardRule rule;  // forward-add and forward-remove only
};

// One request line (without its '\n'); nullopt and the reason in `error`.
std::optional<Request> parse_request(std::string_view line, std::string& error);
// The request as one line, without the '\n'.
std::string format_request(const Request& request);

// What a status reply reports, copied from the relay.
struct StatusSnapshot {
  std::vector<relay::ClientStats> clients;
  relay::Counters totals;
  std::size_t flows = 0;
  std::vector<relay::ForwardRule> forwards;
};
StatusSnapshot snapshot_of(const relay::Relay& relay);

// Reply lines, without the '\n'.
std::string status_reply(const StatusSnapshot& status);
std::string forward_list_reply(const std::vector<relay::ForwardRule>& forwards);
std::string forward_reply(const relay::ForwardRule& rule);
std::string error_reply(std::string_view message);

// A reply line as the client reads it: the parsed object when "ok" is
// true, nullopt with the relay's message (or what is wrong with the line)
// in `error` otherwise.
std::optional<nlohmann::json> parse_reply(std::string_view line, std::string& error);

}  // namespace rtether::control
