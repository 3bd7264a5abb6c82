// The control protocol's lines; grammar in control_protocol.hpp.
#include "control/control_protocol.hpp"

#include <fmt/core.h>

namespace rtether::control {

namespace {
using nlohmann::json;

struct CommandName {
  Command command;
  const char* name;
  bool takes_rule;
};
// In Command's order.
constexpr CommandName kCommands[] = {
    {Command::Status, "status", false},
    {Command::ForwardList, "forward-list", false},
    {Command::ForwardAdd, "forward-add", true},
    {Command::ForwardRemove, "forward-remove", true},
};

const CommandName& entry(Command command) {
  return kCommands[static_cast<std::size_t>(command)];
}

// Lines are only ever built from parsed (valid UTF-8) text and our own, but
// a rule's text or a system message is not checked here: bad bytes become
// U+FFFD rather than an exception.
std::string line_of(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json rule_texts(const std::vector<relay::ForwardRule>& forwards) {
  json texts = json::array();
  for (const auto& rule : forwards) texts.push_back(rule.to_string());
  return texts;
}
}  // namespace

std::optional<Request> parse_request(std::string_view line, std::string& error) {
  if (line.size() >= kMaxRequestBytes) {
    error = fmt::format("request longer than {} bytes", kMaxRequestBytes - 1);
    return std::nullopt;
  }
  const json value = json::parse(line, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    error = "a request is one JSON object on one line";
    return std::nullopt;
  }
  auto command = value.find("command");
  if (command == value.end() || !command->is_string()) {
    error = "the request has no \"command\" string";
    return std::nullopt;
  }
  const CommandName* known = nullptr;
  for (const auto& candidate : kCommands)
    if (command->get_ref<const std::string&>() == candidate.name) known = &candidate;
  if (!known) {
    error = "unknown command (status, forward-list, forward-add, forward-remove)";
    return std::nullopt;
  }
  for (const auto& [key, member] : value.items()) {
    if (key != "command" && !(known->takes_rule && key == "rule")) {
      error = fmt::format("{} takes no member \"{}\"", known->name, key);
      return std::nullopt;
    }
  }
  Request request;
  request.command = known->command;
  if (!known->takes_rule) return request;
  auto rule = value.find("rule");
  if (rule == value.end() || !rule->is_string()) {
    error = fmt::format("{} needs a \"rule\" string (a --forward value)", known->name);
    return std::nullopt;
  }
  auto parsed = relay::parse_forward_rule(rule->get<std::string>(), error);
  if (!parsed) return std::nullopt;
  request.rule = *parsed;
  return request;
}

std::string format_request(const Request& request) {
  const CommandName& known = entry(request.command);
  json value = {{"command", known.name}};
  if (known.takes_rule) value["rule"] = request.rule.to_string();
  return line_of(value);
}

StatusSnapshot snapshot_of(const relay::Relay& relay) {
  return StatusSnapshot{relay.client_stats(), relay.totals(), relay.flow_count(),
                        relay.forwards()};
}

std::string status_reply(const StatusSnapshot& status) {
  json clients = json::array();
  for (const auto& client : status.clients) {
    json entry = {{"id", client.id},
                  {"serial", client.serial},
                  {"thread", client.thread},
                  {"open_flows", client.open_flows},
                       {"bytes_from_device", client.bytes_from_device},
                       {"bytes_to_device", client.bytes_to_device},
                       {"packets_from_device", client.packets_from_device},
                  {"packets_to_device", client.packets_to_device}};
    // A direct-mode namespace on a multi-queue tun is a client per queue.
    if (client.queue.count > 1)
      entry["queue"] = {{"index", client.queue.index}, {"count", client.queue.count}};
    clients.push_back(std::move(entry));
  }
  json totals = json::object();
  status.totals.for_each(
      [&](const char* name, const char*, std::uint64_t value) { totals[name] = value; });
  return line_of({{"ok", true},
                  {"clients", std::move(clients)},
                  {"flows", status.flows},
                  {"totals", std::move(totals)},
                  {"forwards", rule_texts(status.forwards)}});
}

std::string forward_list_reply(const std::vector<relay::ForwardRule>& forwards) {
  return line_of({{"ok", true}, {"forwards", rule_texts(forwards)}});
}

std::string forward_reply(const relay::ForwardRule& rule) {
  return line_of({{"ok", true}, {"forward", rule.to_string()}});
}

std::string error_reply(std::string_view message) {
  return line_of({{"ok", false}, {"error", std::string(message)}});
}

std::optional<nlohmann::json> parse_reply(std::string_view line, std::string& error) {
  json value = json::parse(line, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    error = "the relay's reply is not a JSON object";
    return std::nullopt;
  }
  auto ok = value.find("ok");
  if (ok == value.end() || !ok->is_boolean()) {
    error = "the relay's reply has no \"ok\"";
    return std::nullopt;
  }
  if (ok->get<bool>()) return value;
  auto message = value.find("error");
  error = message != value.end() && message->is_string() ? message->get<std::string>()
                                                        : "the relay refused the request";
  return std::nullopt;
}

}  // namespace rtether::control
