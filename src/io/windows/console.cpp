// The terminal on Windows: the console; see console.hpp.
#include "io/console.hpp"

#include <windows.h>

#include <cstdlib>
#include <cstring>

namespace rtether::io {

namespace {
bool is_console(HANDLE handle, DWORD& mode) {
  return handle != nullptr && handle != INVALID_HANDLE_VALUE && ::GetConsoleMode(handle, &mode);
}
}  // namespace

bool stdout_is_terminal() {
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode = 0;
  if (!is_console(out, mode)) return false;
  return (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0 ||
         ::SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

// A process has at most one console: two console handles show the same.
bool stderr_is_stdout_terminal() {
  DWORD mode = 0;
  return is_console(::GetStdHandle(STD_OUTPUT_HANDLE), mode) &&
         is_console(::GetStdHandle(STD_ERROR_HANDLE), mode);
}

TerminalSize stdout_terminal_size() {
  CONSOLE_SCREEN_BUFFER_INFO info{};
  if (!::GetConsoleScreenBufferInfo(::GetStdHandle(STD_OUTPUT_HANDLE), &info)) return {};
  return {static_cast<std::size_t>(info.srWindow.Right - info.srWindow.Left + 1),
          static_cast<std::size_t>(info.srWindow.Bottom - info.srWindow.Top + 1)};
}

}  // namespace rtether::io
