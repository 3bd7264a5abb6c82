// Winsock error codes as std::error_code; see winsock.hpp.
#include "io/windows/winsock.hpp"

#include <windows.h>

#include <string>

namespace rtether::io {

namespace {

// The POSIX condition of each WSA code that has one ("Windows Sockets Error
// Codes" in Microsoft's docs names the BSD error each stands for).
// WSAEHOSTDOWN has none (is_host_down tests it).
std::errc condition_of(int code, bool& known) {
  known = true;
  switch (code) {
    case WSAEWOULDBLOCK:
      return std::errc::operation_would_block;
    case WSAEINPROGRESS:
      return std::errc::operation_in_progress;
    case WSAEALREADY:
      return std::errc::connection_already_in_progress;
    case WSAEINTR:
      return std::errc::interrupted;
    case WSAEBADF:
      return std::errc::bad_file_descriptor;
    case WSAEACCES:
      return std::errc::permission_denied;
    case WSAEFAULT:
      return std::errc::bad_address;
    case WSAEINVAL:
      return std::errc::invalid_argument;
    case WSAEMFILE:
      return std::errc::too_many_files_open;
    case WSAENAMETOOLONG:
      return std::errc::filename_too_long;
    case WSAENOTSOCK:
      return std::errc::not_a_socket;
    case WSAEDESTADDRREQ:
      return std::errc::destination_address_required;
    case WSAEMSGSIZE:
      return std::errc::message_size;
    case WSAEPROTOTYPE:
      return std::errc::wrong_protocol_type;
    case WSAENOPROTOOPT:
      return std::errc::no_protocol_option;
    case WSAEPROTONOSUPPORT:
      return std::errc::protocol_not_supported;
    case WSAESOCKTNOSUPPORT:
      return std::errc::protocol_not_supported;
    case WSAEOPNOTSUPP:
      return std::errc::operation_not_supported;
    case WSAEPFNOSUPPORT:
      return std::errc::address_family_not_supported;
    case WSAEAFNOSUPPORT:
      return std::errc::address_family_not_supported;
    case WSAEADDRINUSE:
      return std::errc::address_in_use;
    case WSAEADDRNOTAVAIL:
      return std::errc::address_not_available;
    case WSAENETDOWN:
      return std::errc::network_down;
    case WSAENETUNREACH:
      return std::errc::network_unreachable;
    case WSAENETRESET:
      return std::errc::network_reset;
    case WSAECONNABORTED:
      return std::errc::connection_aborted;
    case WSAECONNRESET:
      return std::errc::connection_reset;
    case WSAENOBUFS:
      return std::errc::no_buffer_space;
    case WSAEISCONN:
      return std::errc::already_connected;
    case WSAENOTCONN:
      return std::errc::not_connected;
    // A send after shutdown(SD_SEND): EPIPE on Linux.
    case WSAESHUTDOWN:
      return std::errc::broken_pipe;
    case WSAETIMEDOUT:
      return std::errc::timed_out;
    case WSAECONNREFUSED:
      return std::errc::connection_refused;
    case WSAEHOSTUNREACH:
      return std::errc::host_unreachable;
    case WSAELOOP:
      return std::errc::too_many_symbolic_link_levels;
    case ERROR_NOT_ENOUGH_MEMORY:
      return std::errc::not_enough_memory;
    case ERROR_ACCESS_DENIED:
      return std::errc::permission_denied;
    case ERROR_NOT_SUPPORTED:
      return std::errc::not_supported;
    case ERROR_CALL_NOT_IMPLEMENTED:
      return std::errc::function_not_supported;
    default:
      known = false;
      return {};
  }
}

class WinsockCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "winsock"; }

  std::error_condition default_error_condition(int code) const noexcept override {
    bool known = false;
    const std::errc condition = condition_of(code, known);
    if (!known) return {code, *this};
    return std::make_error_condition(condition);
  }

  std::string message(int code) const override {
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
    if (message.empty()) {
      // No text in the system's tables (Wine has few): the POSIX one.
      bool known = false;
      const std::errc condition = condition_of(code, known);
      message = known ? std::make_error_code(condition).message()
                      : "Winsock error " + std::to_string(code);
    }
    return message;
  }
};

}  // namespace

const std::error_category& winsock_category() {
  static const WinsockCategory category;
  return category;
}

}  // namespace rtether::io
