// What this process holds right now, for the metrics endpoint: resident
// memory and open descriptors. Linux: /proc/self/statm (resident pages
// times the page size) and the entries of /proc/self/fd; Windows:
// GetProcessMemoryInfo (WorkingSetSize) and GetProcessHandleCount, every
// kernel handle (sockets, files, threads, events), the nearest Windows has
// to a descriptor count (none under Wine 8, whose count is a stub saying 0).
#pragma once

#include <cstdint>
#include <optional>

namespace rtether::io {

struct ProcessUsage {
  std::optional<std::uint64_t> resident_bytes;  // none when the OS did not say
  std::optional<std::uint64_t> open_fds;
};

ProcessUsage process_usage();

}  // namespace rtether::io
