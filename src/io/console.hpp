// The terminal rtether's live status draws on: whether stdout is one it
// may draw on in place (cursor moves, line erases: VT sequences), its size,
// and whether the log (stderr) shares it. Elsewhere (a pipe, a file) the
// status is plain log lines.
//
// Linux: a tty, TERM not "dumb", whose foreground process group is ours
// (not `rtether relay &`, nor the relay `rtether shell` runs in a group of
// its own); the size from TIOCGWINSZ.
// Windows: a console (GetConsoleMode succeeds), TERM not "dumb", on which
// ENABLE_VIRTUAL_TERMINAL_PROCESSING could be turned on ("Console Virtual
// Terminal Sequences" in Microsoft's docs; consoles before Windows 10 refuse
// it and get plain lines); the size of the console window.
#pragma once

#include <cstddef>

namespace rtether::io {

// True when stdout is a terminal the live status may redraw in place; on
// Windows this turns the console's VT processing on.
bool stdout_is_terminal();

// True when stderr goes to the same terminal as stdout.
bool stderr_is_stdout_terminal();

struct TerminalSize {
  std::size_t columns = 0;  // 0: unknown
  std::size_t rows = 0;
};
TerminalSize stdout_terminal_size();

}  // namespace rtether::io
