// executable_directory on Windows; see executable_location.hpp.
#include "io/executable_location.hpp"

#include <windows.h>

#include <vector>

#include "io/windows/win32_error.hpp"

namespace rtether::io {

std::optional<std::string> executable_directory() {
  // Paths may exceed MAX_PATH: grow until the name fits.
  std::vector<wchar_t> path(MAX_PATH);
  constexpr std::size_t kLongestPath = 32768;  // "Maximum Path Length Limitation"
  for (;;) {
    DWORD length = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    if (length == 0) return std::nullopt;
    if (length < path.size()) {
      std::string binary = narrow(std::wstring_view(path.data(), length));
      std::size_t separator = binary.find_last_of("\\/");
      if (separator == std::string::npos) return std::nullopt;
      return binary.substr(0, separator + 1);
    }
    if (path.size() >= kLongestPath) return std::nullopt;
    path.resize(path.size() * 2);
  }
}

}  // namespace rtether::io
