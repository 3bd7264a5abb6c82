// ResolvConf: the DNS servers of a client's tun, written where programs in
// its network namespace will read them, and removed when the client goes.
//
// For a named namespace NAME that is /etc/netns/NAME/resolv.conf, which
// `ip netns exec` and `rtether shell` bind-mount over /etc/resolv.conf.
// In the default namespace the host's /etc/resolv.conf is shared by every
// program (and often owned by a resolver daemon), so it is never touched:
// the servers are only logged for the user to configure.
#pragma once

#include <string>
#include <vector>

#include "wire/ip_address.hpp"

namespace rtether::device {

class ResolvConf {
 public:
  // Empty netns = the default namespace, or one named by a path or a PID,
  // which has no /etc/netns/NAME/ (nothing written); no servers, no file. Throws
  // std::runtime_error if the file cannot be written.
  // search_domain, if not empty, becomes the file's "search" line.
  ResolvConf(const std::string& netns, const std::vector<wire::IpAddress>& servers,
             const std::string& search_domain = {});
  ~ResolvConf();
  ResolvConf(const ResolvConf&) = delete;
  ResolvConf& operator=(const ResolvConf&) = delete;

  // Path written, or empty in the default namespace.
  const std::string& path() const { return path_; }

  // Removes /etc/netns/NAME/resolv.conf and the directories it needed, if
  // nothing else is in them; for a parent cleaning up after a killed client.
  static void remove_for(const std::string& netns);

 private:
  std::string netns_;
  std::string path_;
};

}  // namespace rtether::device
