// process_usage on Linux; see process_usage.hpp.
#include "io/process_usage.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>

namespace rtether::io {

namespace {

// statm's second field is the resident set in pages (proc(5)).
std::optional<std::uint64_t> resident_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "re");
  if (statm == nullptr) return std::nullopt;
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  int fields = std::fscanf(statm, "%llu %llu", &size_pages, &resident_pages);
  std::fclose(statm);
  long page_size = ::sysconf(_SC_PAGESIZE);
  if (fields != 2 || page_size <= 0) return std::nullopt;
  return resident_pages * static_cast<std::uint64_t>(page_size);
}

// The entries of /proc/self/fd, less the one the listing itself opens.
std::optional<std::uint64_t> open_fds() {
  DIR* listing = ::opendir("/proc/self/fd");
  if (listing == nullptr) return std::nullopt;
  std::uint64_t count = 0;
  while (const dirent* entry = ::readdir(listing))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(listing);
  return count > 0 ? count - 1 : 0;
}

}  // namespace

ProcessUsage process_usage() { return ProcessUsage{resident_bytes(), open_fds()}; }

}  // namespace rtether::io
