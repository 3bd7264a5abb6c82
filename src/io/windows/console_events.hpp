// The console control handler SignalWatcher installs (SetConsoleCtrlHandler),
// internal to io/windows/. Declared here so that the unit tests call it as
// the system does, from a thread of their own: under Wine a program whose
// output is a pipe has no console, so GenerateConsoleCtrlEvent cannot reach
// it (the e2e tests send Ctrl+C through Wine's SIGINT instead).
#pragma once

#include <windows.h>

namespace rtether::io {

// TRUE when the event went to the watcher; FALSE leaves it to the next
// handler (no watcher, or a signal it does not watch). A Ctrl+C after
// pass_next_interrupt() ends the process (STATUS_CONTROL_C_EXIT).
BOOL WINAPI on_console_event(DWORD event);

}  // namespace rtether::io
