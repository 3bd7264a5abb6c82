// Winsock error codes as std::error_code; see winsock.hpp.
#include "io/windows/winsock.hpp"

#include <windows.h>

#include <string>

namespace rtether::io {

namespace {

// Each WSA code that has a POSIX condition ("Windows Sockets Error Codes"
// in Microsoft's docs names the BSD error each stands for), with the text
// Linux gives it (glibc's strerror), so that a message reads the same on
// both: the C runtime's strerror knows none of the socket errors, and
// Wine's FormatMessage has no text for most. WSAEHOSTDOWN has no condition
// (is_host_down tests it). A send after shutdown(SD_SEND), WSAESHUTDOWN, is
// EPIPE on Linux.
struct KnownError {
  int code;
  std::errc condition;
  const char* text;
};

constexpr KnownError kKnownErrors[] = {
    {WSAEWOULDBLOCK, std::errc::operation_would_block, "Resource temporarily unavailable"},
    {WSAEINPROGRESS, std::errc::operation_in_progress, "Operation now in progress"},
    {WSAEALREADY, std::errc::connection_already_in_progress, "Operation already in progress"},
    {WSAEINTR, std::errc::interrupted, "Interrupted system call"},
    {WSAEBADF, std::errc::bad_file_descriptor, "Bad file descriptor"},
    {WSAEACCES, std::errc::permission_denied, "Permission denied"},
    {WSAEFAULT, std::errc::bad_address, "Bad address"},
    {WSAEINVAL, std::errc::invalid_argument, "Invalid argument"},
    {WSAEMFILE, std::errc::too_many_files_open, "Too many open files"},
    {WSAENAMETOOLONG, std::errc::filename_too_long, "File name too long"},
    {WSAENOTSOCK, std::errc::not_a_socket, "Socket operation on non-socket"},
    {WSAEDESTADDRREQ, std::errc::destination_address_required, "Destination address required"},
    {WSAEMSGSIZE, std::errc::message_size, "Message too long"},
    {WSAEPROTOTYPE, std::errc::wrong_protocol_type, "Protocol wrong type for socket"},
    {WSAENOPROTOOPT, std::errc::no_protocol_option, "Protocol not available"},
    {WSAEPROTONOSUPPORT, std::errc::protocol_not_supported, "Protocol not supported"},
    {WSAESOCKTNOSUPPORT, std::errc::protocol_not_supported, "Protocol not supported"},
    {WSAEOPNOTSUPP, std::errc::operation_not_supported, "Operation not supported"},
    {WSAEPFNOSUPPORT, std::errc::address_family_not_supported, "Address family not supported by protocol"},
    {WSAEAFNOSUPPORT, std::errc::address_family_not_supported, "Address family not supported by protocol"},
    {WSAEADDRINUSE, std::errc::address_in_use, "Address already in use"},
    {WSAEADDRNOTAVAIL, std::errc::address_not_available, "Cannot assign requested address"},
    {WSAENETDOWN, std::errc::network_down, "Network is down"},
    {WSAENETUNREACH, std::errc::network_unreachable, "Network is unreachable"},
    {WSAENETRESET, std::errc::network_reset, "Network dropped connection on reset"},
    {WSAECONNABORTED, std::errc::connection_aborted, "Software caused connection abort"},
    {WSAECONNRESET, std::errc::connection_reset, "Connection reset by peer"},
    {WSAENOBUFS, std::errc::no_buffer_space, "No buffer space available"},
    {WSAEISCONN, std::errc::already_connected, "Transport endpoint is already connected"},
    {WSAENOTCONN, std::errc::not_connected, "Transport endpoint is not connected"},
    {WSAESHUTDOWN, std::errc::broken_pipe, "Broken pipe"},
    {WSAETIMEDOUT, std::errc::timed_out, "Connection timed out"},
    {WSAECONNREFUSED, std::errc::connection_refused, "Connection refused"},
    {WSAEHOSTUNREACH, std::errc::host_unreachable, "No route to host"},
    {WSAELOOP, std::errc::too_many_symbolic_link_levels, "Too many levels of symbolic links"},
    {ERROR_NOT_ENOUGH_MEMORY, std::errc::not_enough_memory, "Cannot allocate memory"},
    {ERROR_ACCESS_DENIED, std::errc::permission_denied, "Permission denied"},
    {ERROR_NOT_SUPPORTED, std::errc::not_supported, "Operation not supported"},
    {ERROR_CALL_NOT_IMPLEMENTED, std::errc::function_not_supported, "Function not implemented"},
    {WSAEHOSTDOWN, std::errc{}, "Host is down"},
};

const KnownError* find_known(int code) {
  for (const auto& known : kKnownErrors)
    if (known.code == code) return &known;
  return nullptr;
}

class WinsockCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "winsock"; }

  std::error_condition default_error_condition(int code) const noexcept override {
    const KnownError* known = find_known(code);
    if (known == nullptr || known->condition == std::errc{}) return {code, *this};
    return std::make_error_condition(known->condition);
  }

  std::string message(int code) const override {
    if (const KnownError* known = find_known(code)) return known->text;
    char* text = nullptr;
    const DWORD length = ::FormatMessageA(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, static_cast<DWORD>(code), MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US),
        reinterpret_cast<char*>(&text), 0, nullptr);
    std::string message = length > 0 ? std::string{text, length} : std::string{};
    if (text != nullptr) ::LocalFree(text);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r' ||
                                message.back() == '.' || message.back() == ' '))
      message.pop_back();
    return message.empty() ? "Winsock error " + std::to_string(code) : message;
  }
};

}  // namespace

const std::error_category& winsock_category() {
  static const WinsockCategory category;
  return category;
}

}  // namespace rtether::io
