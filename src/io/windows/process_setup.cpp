// prepare_process on Windows; see process_setup.hpp.
#include "io/process_setup.hpp"

#include <winsock2.h>
#include <windows.h>

#include <system_error>

namespace rtether::io {

void prepare_process() {
  WSADATA data;
  // Winsock 2.2: every Windows since 98. Never cleaned up: the process
  // ends with it.
  if (int error = ::WSAStartup(MAKEWORD(2, 2), &data); error != 0)
    throw std::system_error(error, std::system_category(), "cannot start Winsock (WSAStartup)");
  ::SetConsoleOutputCP(CP_UTF8);
}

void prepare_worker_thread() {}

}  // namespace rtether::io
