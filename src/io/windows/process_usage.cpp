// process_usage on Windows; see process_usage.hpp.
#include "io/process_usage.hpp"

#include <windows.h>
// After windows.h, which it needs. PSAPI_VERSION 2 (the default from
// Windows 7 on) maps GetProcessMemoryInfo to kernel32's
// K32GetProcessMemoryInfo: no psapi.dll.
#include <psapi.h>

namespace rtether::io {

ProcessUsage process_usage() {
  ProcessUsage usage;
  PROCESS_MEMORY_COUNTERS memory{};
  memory.cb = sizeof memory;
  if (::GetProcessMemoryInfo(::GetCurrentProcess(), &memory, sizeof memory))
    usage.resident_bytes = memory.WorkingSetSize;
  // A live process holds handles (its threads' at least): 0 is no answer.
  // Wine 8's GetProcessHandleCount is a stub that says 0.
  DWORD handles = 0;
  if (::GetProcessHandleCount(::GetCurrentProcess(), &handles) && handles > 0)
    usage.open_fds = handles;
  return usage;
}

}  // namespace rtether::io
