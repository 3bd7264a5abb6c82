// Reading a resolv.conf file: see dns_servers.hpp. Portable (stdio).
#include "io/dns_servers.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>

#include "wire/resolv_conf.hpp"

namespace rtether::io {

namespace {
// resolv.conf is a few lines; a larger file is not one.
constexpr std::size_t kMaxResolvConf = 64 * 1024;
}  // namespace

Result<std::vector<wire::IpAddress>> read_resolv_conf(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return std::error_code(errno, std::generic_category());
  std::string text(kMaxResolvConf, '\0');
  const std::size_t got = std::fread(text.data(), 1, text.size(), file.get());
  if (std::ferror(file.get())) return std::make_error_code(std::errc::io_error);
  if (got == text.size()) return std::make_error_code(std::errc::file_too_large);
  text.resize(got);
  return wire::parse_resolv_conf(text);
}

}  // namespace rtether::io
