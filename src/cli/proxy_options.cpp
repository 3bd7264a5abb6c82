// --proxy / --proxy-udp: see proxy_options.hpp.
#include "cli/proxy_options.hpp"

#include <cstdlib>

#include "io/host_names.hpp"
#include "io/log.hpp"

namespace rtether::cli {

namespace {
constexpr const char* kEnvironmentVariables[] = {"ALL_PROXY", "HTTPS_PROXY", "https_proxy",
                                                 "all_proxy"};
}  // namespace

void add_proxy_options(CLI::App* command, ProxyValues& values) {
  command
      ->add_option("--proxy", values.proxy,
                   "Send every host TCP connection through this proxy: socks5://[USER:PASS@]"
                   "HOST:PORT or http://[USER:PASS@]HOST:PORT (CONNECT); HOST an IP address or a "
                   "name (resolved once, at start). The relay's DNS goes through it too (not to a "
                   "loopback resolver). "
                   "'env': from ALL_PROXY, HTTPS_PROXY, https_proxy or all_proxy")
      ->type_name("URL|env")
      ->check([](const std::string& text) {
        std::string error;
        return text == "env" || relay::parse_proxy_url(text, error) ? std::string{} : error;
      });
  command
      ->add_option("--proxy-udp", values.udp,
                   "Device UDP with a proxy that carries none (HTTP; a SOCKS5 proxy carries it "
                   "by UDP ASSOCIATE): 'drop' refuses it (ICMP prohibited), 'direct' sends it "
                   "from the host")
      ->check(CLI::IsMember({"direct", "drop"}))
      ->default_val("drop");
}

EnvironmentLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

HostResolver host_resolver() {
  return [](const std::string& name, std::string& error) {
    return io::resolve_host_name(name, error);
  };
}

bool apply_proxy_options(const ProxyValues& values, const EnvironmentLookup& environment,
                         relay::RelayConfig& config, std::string& error,
                         const HostResolver& resolve) {
  config.proxy_udp = values.udp == "direct" ? relay::ProxyUdp::Direct : relay::ProxyUdp::Drop;
  if (values.proxy.empty()) return true;
  std::string url = values.proxy;
  std::string source = "--proxy";
  if (url == "env") {
    url.clear();
    for (const char* name : kEnvironmentVariables) {
      auto value = environment(name);
      if (value && !value->empty()) {
        url = *value;
        source = name;
        break;
      }
    }
    if (url.empty()) {
      error = "--proxy env: none of ALL_PROXY, HTTPS_PROXY, https_proxy, all_proxy is set";
      return false;
    }
  }
  std::string why;
  config.proxy = relay::parse_proxy_url(url, why);
  if (!config.proxy) {
    error = source + ": " + why;
    return false;
  }
  if (!config.proxy->host.empty()) {
    auto addresses = resolve(config.proxy->host, why);
    if (addresses.empty()) {
      error = source + ": the proxy's host \"" + config.proxy->host + "\" does not resolve: " + why;
      config.proxy.reset();
      return false;
    }
    config.proxy->address.address = addresses.front();
  }
  return true;
}

void log_proxy(const relay::RelayConfig& config) {
  if (!config.proxy) return;
  const char* udp = config.proxy->carries_udp()                 ? "UDP by UDP ASSOCIATE"
                    : config.proxy_udp == relay::ProxyUdp::Drop ? "UDP refused (--proxy-udp drop)"
                                                                : "UDP direct (--proxy-udp direct)";
  std::string resolved;
  if (!config.proxy->host.empty()) resolved = " (" + config.proxy->address.address.to_string() + ")";
  log::info("upstream proxy {}{}: every TCP connection and DNS (but to loopback) through it, {}",
            config.proxy->to_string(), resolved, udp);
}

}  // namespace rtether::cli
