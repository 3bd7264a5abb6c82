// InProcessUi: the UI `rtether client` runs itself when no --management is
// given: a mgmt::UiSession on the far end of a socketpair, building the tun
// with LinuxVpnService on a thread of its own. The tun is thus set up
// through exactly the NEED-OK exchange an outside UI sees: one code path.
// It ends when the daemon closes its end of the pair.
#pragma once

#include <string>
#include <thread>
#include <utility>

#include "daemon/linux_vpn_service.hpp"
#include "io/socket.hpp"
#include "mgmt/ui_client.hpp"
#include "mgmt/ui_session.hpp"

namespace rtether::daemon {

class InProcessUi {
 public:
  // A connected pair: {the daemon's end (ServerOptions::attached), the UI's}.
  // Throws std::runtime_error if the system refuses.
  static std::pair<io::Fd, io::Fd> socket_pair();

  // Starts the UI thread on `socket`; start it after the ManagementServer,
  // which blocks the daemon's signals for every thread started later.
  InProcessUi(io::Fd socket, std::string tun_name, std::string netns);
  // Waits for the thread: close the daemon's end first.
  ~InProcessUi();
  InProcessUi(const InProcessUi&) = delete;
  InProcessUi& operator=(const InProcessUi&) = delete;

 private:
  LinuxVpnService service_;
  mgmt::UiSession session_;
  mgmt::UiClient client_;
  std::thread thread_;
};

}  // namespace rtether::daemon
