// Telling the service manager how the service is doing: ready (its sockets
// listen), a one-line status, stopping. On Linux this is systemd's
// notification protocol (sd_notify(3): datagrams to $NOTIFY_SOCKET, sent only
// when the manager set it, so a service of Type=notify starts its dependents
// once clients can connect). Elsewhere there is no such manager for a console
// program and each call does nothing.
#pragma once

#include <string_view>

namespace rtether::io {

// True when a service manager listens (Linux: $NOTIFY_SOCKET is set), so
// that periodic status lines are worth making.
bool has_service_manager();
// "READY=1" with "STATUS=<status>": every listener is open.
void notify_ready(std::string_view status);
// "STATUS=<status>": shown by `systemctl status`.
void notify_status(std::string_view status);
// "STOPPING=1" with "STATUS=<status>": shutdown has begun.
void notify_stopping(std::string_view status);

}  // namespace rtether::io
