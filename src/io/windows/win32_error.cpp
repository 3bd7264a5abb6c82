// Win32 error codes as std::error_code, UTF-8 <-> UTF-16; see
// win32_error.hpp.
#include "io/windows/win32_error.hpp"

namespace rtether::io {

namespace {

// The POSIX condition of the Win32 codes process, console and file calls
// return ("System Error Codes (0-499)" in Microsoft's docs).
bool condition_of(int code, std::errc& condition) {
  switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_INVALID_DRIVE:
      condition = std::errc::no_such_file_or_directory;
      return true;
    case ERROR_ACCESS_DENIED:
      condition = std::errc::permission_denied;
      return true;
    case ERROR_BAD_EXE_FORMAT:
    case ERROR_EXE_MACHINE_TYPE_MISMATCH:
      condition = std::errc::executable_format_error;
      return true;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
      condition = std::errc::not_enough_memory;
      return true;
    case ERROR_INVALID_PARAMETER:
      condition = std::errc::invalid_argument;
      return true;
    case ERROR_BROKEN_PIPE:
      condition = std::errc::broken_pipe;
      return true;
    case ERROR_DIRECTORY:
      condition = std::errc::is_a_directory;
      return true;
    case ERROR_FILENAME_EXCED_RANGE:
      condition = std::errc::filename_too_long;
      return true;
    case ERROR_NOT_SUPPORTED:
      condition = std::errc::not_supported;
      return true;
    default:
      return false;
  }
}

class Win32Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "win32"; }

  std::string message(int code) const override {
    wchar_t* text = nullptr;
    DWORD length = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, static_cast<DWORD>(code), 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    if (length == 0 || text == nullptr) return "Windows error " + std::to_string(code);
    std::string message = narrow(std::wstring_view(text, length));
    ::LocalFree(text);
    // FormatMessage ends its text with ".\r\n"; one line here.
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == ' ' || message.back() == '.'))
      message.pop_back();
    return message;
  }

  std::error_condition default_error_condition(int code) const noexcept override {
    std::errc condition;
    if (condition_of(code, condition)) return std::make_error_condition(condition);
    return {code, *this};
  }
};
}  // namespace

const std::error_category& win32_category() {
  static const Win32Category category;
  return category;
}

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  int size =
      ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring wide(static_cast<std::size_t>(size), L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), wide.data(), size);
  return wide;
}

std::string narrow(std::wstring_view utf16) {
  if (utf16.empty()) return {};
  int size = ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()),
                                   nullptr, 0, nullptr, nullptr);
  std::string text(static_cast<std::size_t>(size), '\0');
  ::WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), text.data(), size,
                        nullptr, nullptr);
  return text;
}

}  // namespace rtether::io
