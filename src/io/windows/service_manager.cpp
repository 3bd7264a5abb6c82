// The service manager on Windows: none. rtether.exe is a console program,
// not a Windows service (it does not speak the Service Control Manager's
// protocol, "Service Functions" in Microsoft's docs), so there is nobody to
// tell; see service_manager.hpp.
#include "io/service_manager.hpp"

namespace rtether::io {

bool has_service_manager() { return false; }

void notify_ready(std::string_view) {}

void notify_status(std::string_view) {}

void notify_stopping(std::string_view) {}

}  // namespace rtether::io
