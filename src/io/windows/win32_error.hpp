// Win32 error codes (GetLastError) as std::error_code values, internal to
// io/windows/: messages from FormatMessage, and the std::errc condition of
// the codes callers test (a missing program compares equal to
// std::errc::no_such_file_or_directory, as ENOENT does on Linux), which
// mingw's system_category does not give. UTF-8 and UTF-16 conversions for
// the W functions sit here too: every io/windows/ file that names a Win32
// error also passes text to Windows.
#pragma once

#include <windows.h>

#include <string>
#include <string_view>
#include <system_error>

namespace rtether::io {

const std::error_category& win32_category();

inline std::error_code win32_error(DWORD code) {
  return {static_cast<int>(code), win32_category()};
}
inline std::error_code last_win32_error() { return win32_error(::GetLastError()); }

// UTF-8 to UTF-16 and back (invalid sequences become U+FFFD).
std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

}  // namespace rtether::io
