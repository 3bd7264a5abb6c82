// `rtether status [--json]` and `rtether forward add|remove|list`: requests
// to a running relay's control socket (--control PATH, default
// default_control_path_here()); protocol in control/control_protocol.hpp.
// Exit status: 0 done, 1 the relay refused or could not be reached (one
// line saying why), 2 a bad option or RULE.
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "cli/app.hpp"
#include "cli/control_option.hpp"
#include "cli/status_display.hpp"
#include "control/control_client.hpp"
#include "control/control_protocol.hpp"
#include "io/log.hpp"
#include "relay/forward_rule.hpp"

namespace rtether::cli {

namespace {
using nlohmann::json;

struct ControlRequestOptions {
  std::string path = default_control_path_here();
  bool json_output = false;
  std::string rule;
};

void add_path_option(CLI::App* command, ControlRequestOptions& options) {
  command->add_option("--control", options.path, "The relay's control socket (@NAME: abstract)")
      ->default_val(options.path)
      ->type_name("PATH");
}

// The relay's reply to `request`, or nullopt once the refusal is logged.
std::optional<json> ask(const ControlRequestOptions& options, const control::Request& request) {
  std::string line = control::exchange(options.path, control::format_request(request));
  std::string error;
  auto reply = control::parse_reply(line, error);
  if (!reply) log::error("{}", error);
  return reply;
}

std::uint64_t number(const json& value, const char* name) {
  auto found = value.find(name);
  return found != value.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

// The status for people: one line per client, then the relay's totals.
void print_status_table(const json& status) {
  std::printf("%-6s %-20s %6s  %-26s %-26s\n", "CLIENT", "SERIAL", "FLOWS", "FROM DEVICE",
              "TO DEVICE");
  const json& clients = status.value("clients", json::array());
  for (const auto& client : clients) {
    auto traffic = [&](const char* bytes, const char* packets) {
      return fmt::format("{} ({} packets)", format_bytes(number(client, bytes)),
                         number(client, packets));
    };
    const std::string serial = client.value("serial", std::string());
    std::printf("%-6llu %-20s %6llu  %-26s %-26s\n",
                static_cast<unsigned long long>(number(client, "id")),
                serial.empty() ? "-" : serial.c_str(),
                static_cast<unsigned long long>(number(client, "open_flows")),
                traffic("bytes_from_device", "packets_from_device").c_str(),
                traffic("bytes_to_device", "packets_to_device").c_str());
  }
  const json& totals = status.value("totals", json::object());
  std::printf("relay: %zu client%s, %llu flows; %s from devices, %s to devices (clients gone "
              "included)\n",
              clients.size(), clients.size() == 1 ? "" : "s",
              static_cast<unsigned long long>(number(status, "flows")),
              format_bytes(number(totals, "bytes_from_device")).c_str(),
              format_bytes(number(totals, "bytes_to_device")).c_str());
  for (const auto& rule : status.value("forwards", json::array()))
    if (rule.is_string()) std::printf("forward %s\n", rule.get<std::string>().c_str());
}

int run_status(const ControlRequestOptions& options) {
  auto reply = ask(options, control::Request{control::Command::Status, {}});
  if (!reply) return 1;
  if (options.json_output) {
    reply->erase("ok");
    std::printf("%s\n", reply->dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  } else {
    print_status_table(*reply);
  }
  return 0;
}

int run_forward(const ControlRequestOptions& options, control::Command command) {
  control::Request request{command, {}};
  if (command != control::Command::ForwardList) {
    std::string error;
    auto rule = relay::parse_forward_rule(options.rule, error);
    if (!rule) throw std::logic_error("validated RULE failed to parse: " + error);
    request.rule = *rule;
  }
  auto reply = ask(options, request);
  if (!reply) return 1;
  if (command == control::Command::ForwardList) {
    for (const auto& rule : reply->value("forwards", json::array()))
      if (rule.is_string()) std::printf("%s\n", rule.get<std::string>().c_str());
    return 0;
  }
  log::info("forward {} {}", reply->value("forward", std::string()),
            command == control::Command::ForwardAdd ? "added" : "removed");
  return 0;
}

void add_forward_command(CLI::App* forward, CommandBody& body, const char* name,
                         const char* description, control::Command command) {
  auto options = std::make_shared<ControlRequestOptions>();
  auto* sub = forward->add_subcommand(name, description);
  if (command != control::Command::ForwardList)
    sub->add_option("rule", options->rule,
                    "tcp|udp:[BIND:]HOSTPORT:DEVICEPORT[@CLIENT], as for --forward")
        ->required()
        ->check([](const std::string& text) {
          std::string error;
          return relay::parse_forward_rule(text, error) ? std::string{} : error;
        });
  add_path_option(sub, *options);
  sub->callback([options, &body, command] {
    body = [options, command] { return run_forward(*options, command); };
  });
}
}  // namespace

void register_control(CLI::App& app, CommandBody& body) {
  {
    auto options = std::make_shared<ControlRequestOptions>();
    auto* status = app.add_subcommand(
        "status", "Show a running relay's clients, flows and totals (relay|run|autorun --control)");
    status->add_flag("--json", options->json_output,
                     "One JSON object (clients, flows, totals, forwards) instead of a table");
    add_path_option(status, *options);
    status->footer("Examples:\n  rtether status\n  rtether status --json --control @rtether-ctl");
    status->callback([options, &body] { body = [options] { return run_status(*options); }; });
  }
  auto* forward = app.add_subcommand(
      "forward",
      "Add, remove or list a running relay's port forwards (relay|run|autorun --control)");
  forward->require_subcommand(1);
  add_forward_command(forward, body, "add", "Forward a new host port into the device now",
                      control::Command::ForwardAdd);
  add_forward_command(forward, body, "remove",
                      "Close a forwarded host port and its connections now",
                      control::Command::ForwardRemove);
  add_forward_command(forward, body, "list", "Print the forward rules in place",
                      control::Command::ForwardList);
  forward->footer(
      "Examples:\n  rtether forward add tcp:8080:80\n  rtether forward add udp:5353:53@1\n"
      "  rtether forward remove tcp:8080:80\n"
      "  rtether forward list --control /run/rtether/control");
}

}  // namespace rtether::cli
