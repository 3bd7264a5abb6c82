// The service manager on Linux: systemd's sd_notify(3) (libsystemd), see
// service_manager.hpp. Without $NOTIFY_SOCKET (not started by systemd)
// sd_notify sends nothing; a failed send is not the service's failure, so
// it is logged at debug level only.
#include "io/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "io/log.hpp"

namespace rtether::io {

namespace {
void notify(const std::string& state) {
  // unset_environment = 0: children (adb) keep $NOTIFY_SOCKET, but only the
  // main process is heard (NotifyAccess=main, systemd's default).
  if (int result = ::sd_notify(0, state.c_str()); result < 0)
    log::debug("sd_notify: {}", std::strerror(-result));
}
}  // namespace

bool has_service_manager() { return std::getenv("NOTIFY_SOCKET") != nullptr; }

void notify_ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void notify_status(std::string_view status) { notify("STATUS=" + std::string(status)); }

void notify_stopping(std::string_view status) {
  notify("STOPPING=1\nSTATUS=" + std::string(status));
}

}  // namespace rtether::io
