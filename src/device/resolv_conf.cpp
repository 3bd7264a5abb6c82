// Per-namespace resolv.conf (resolv.conf(5) format); see resolv_conf.hpp.
#include "device/resolv_conf.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "wire/ip_prefix.hpp"
#include "device/netns.hpp"
#include "io/log.hpp"

namespace rtether::device {
namespace {

std::string directory_for(const std::string& netns) {
  return std::string(kNetnsEtcDir) + "/" + netns;
}

void make_directory(const std::string& path) {
  if (mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
}

}  // namespace

ResolvConf::ResolvConf(const std::string& netns, const std::vector<wire::IpAddress>& servers,
                       const std::string& search_domain)
    : netns_(netns) {
  std::string listed;
  for (const auto& server : servers) listed.append(" ").append(server.to_string());
  if (servers.empty()) return;
  if (netns_.empty()) {
    log::info("no named namespace: /etc/resolv.conf left as is; DNS servers to use:{}", listed);
    return;
  }
  make_directory(kNetnsEtcDir);
  make_directory(directory_for(netns_));
  std::string path = directory_for(netns_) + "/resolv.conf";
  // Write a temporary file and rename it so a reader never sees half a file.
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "# written by rtether client, removed when it exits\n";
    for (const auto& server : servers) out << "nameserver " << server.to_string() << "\n";
    if (!search_domain.empty()) out << "search " << search_domain << "\n";
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  if (rename(temporary.c_str(), path.c_str()) < 0) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  path_ = path;
  log::info("DNS servers{} written to {}", listed, path_);
}

ResolvConf::~ResolvConf() {
  if (!path_.empty()) remove_for(netns_);
}

void ResolvConf::remove_for(const std::string& netns) {
  std::string directory = directory_for(netns);
  unlink((directory + "/resolv.conf").c_str());
  // rmdir fails harmlessly when the user keeps other files there.
  rmdir(directory.c_str());
  rmdir(kNetnsEtcDir);
}

}  // namespace rtether::device
