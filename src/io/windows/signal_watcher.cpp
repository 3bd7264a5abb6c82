// SignalWatcher on Windows: console control events through a loopback
// socket pair; see signal_watcher.hpp.
#include "io/signal_watcher.hpp"

#include <windows.h>

#include <csignal>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>

#include "io/windows/console_events.hpp"
#include "io/windows/winsock.hpp"

namespace rtether::io {

namespace {

[[noreturn]] void throw_winsock(const char* what) {
  throw std::system_error(last_winsock_error(), what);
}

// The watcher's side the console handler sees. The handler runs on a
// thread of the system's, so everything it reads is under the mutex.
struct ConsoleSignals {
  std::mutex mutex;
  SOCKET write_end = INVALID_SOCKET;  // INVALID_SOCKET: no watcher
  std::set<int> watched;
  bool interrupt_passes = false;
};

ConsoleSignals& console_signals() {
  static ConsoleSignals state;
  return state;
}

int signal_of(DWORD event) { return event == CTRL_C_EVENT ? SIGINT : SIGTERM; }

bool ends_process(DWORD event) {
  return event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT;
}

// A connected pair of loopback TCP sockets (Windows has no socketpair):
// the first end non-blocking, for the loop; the second for the handler.
// Neither is inherited by children. Any local process could connect to the
// listener in the moment it is open, so the accepted end must be the
// writer's peer (its address and port), or it is closed and the next one
// taken, a few times at most.
constexpr int kMaxStrangers = 8;

std::pair<Fd, SOCKET> socket_pair() {
  auto open = [] {
    SOCKET socket =
        ::WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (socket == INVALID_SOCKET) throw_winsock("signal socket");
    return socket;
  };
  Fd listener(to_fd(open()));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int length = sizeof address;
  if (::bind(to_socket(listener.get()), reinterpret_cast<sockaddr*>(&address), sizeof address) !=
          0 ||
      ::listen(to_socket(listener.get()), kMaxStrangers + 1) != 0 ||
      ::getsockname(to_socket(listener.get()), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw_winsock("signal socket listener");
  SOCKET writer = open();
  if (::connect(writer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::closesocket(writer);
    throw_winsock("signal socket connect");
  }
  sockaddr_in writer_address{};
  int writer_length = sizeof writer_address;
  if (::getsockname(writer, reinterpret_cast<sockaddr*>(&writer_address), &writer_length) != 0) {
    ::closesocket(writer);
    throw_winsock("signal socket name");
  }
  Fd reader;
  for (int tries = 0; tries < kMaxStrangers + 1 && !reader.valid(); ++tries) {
    sockaddr_in peer{};
    int peer_length = sizeof peer;
    Fd accepted(to_fd(
        ::accept(to_socket(listener.get()), reinterpret_cast<sockaddr*>(&peer), &peer_length)));
    if (!accepted.valid()) break;
    if (peer.sin_port == writer_address.sin_port &&
        peer.sin_addr.s_addr == writer_address.sin_addr.s_addr)
      reader = std::move(accepted);
  }
  u_long non_blocking = 1;
  if (!reader.valid() || ::ioctlsocket(to_socket(reader.get()), FIONBIO, &non_blocking) != 0) {
    ::closesocket(writer);
    throw_winsock("signal socket accept");
  }
  BOOL no_delay = TRUE;
  ::setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay),
               sizeof no_delay);
  return {std::move(reader), writer};
}

// Only SIGINT and SIGTERM are ever written; anything else is not ours.
void drain(int fd, const std::function<void(int)>& each) {
  char numbers[64];
  for (;;) {
    int got = ::recv(to_socket(fd), numbers, sizeof numbers, 0);
    if (got <= 0) return;
    if (!each) continue;
    for (int i = 0; i < got; ++i)
      if (numbers[i] == SIGINT || numbers[i] == SIGTERM) each(numbers[i]);
  }
}
}  // namespace

BOOL WINAPI on_console_event(DWORD event) {
  ConsoleSignals& state = console_signals();
  int signal = signal_of(event);
  bool passes = false;
  {
    std::lock_guard lock(state.mutex);
    if (state.write_end == INVALID_SOCKET || state.watched.count(signal) == 0) return FALSE;
    passes = signal == SIGINT && state.interrupt_passes;
    if (!passes) {
      char number = static_cast<char>(signal);
      ::send(state.write_end, &number, 1, 0);
    }
  }
  // What Windows' default handler does, done here because Wine's exits
  // with 0: ExitProcess(STATUS_CONTROL_C_EXIT).
  if (passes) ::ExitProcess(STATUS_CONTROL_C_EXIT);
  // rtether's exit, when its shutdown is done, ends this wait too.
  if (ends_process(event))
    ::Sleep(static_cast<DWORD>(std::chrono::milliseconds(SignalWatcher::kShutdownGrace).count()));
  return TRUE;
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::initializer_list<int> signals,
                             std::function<void(int)> callback)
    : loop_(loop), callback_(std::move(callback)) {
  ConsoleSignals& state = console_signals();
  auto [reader, writer] = socket_pair();
  {
    std::lock_guard lock(state.mutex);
    if (state.write_end != INVALID_SOCKET) {
      ::closesocket(writer);
      throw std::logic_error("one SignalWatcher at a time on Windows");
    }
    state.write_end = writer;
    state.watched = std::set<int>(signals);
    state.interrupt_passes = false;
  }
  fd_ = std::move(reader);
  ::SetConsoleCtrlHandler(on_console_event, TRUE);
  loop_.add(fd_.get(), Interest::Read, Trigger::Level, this);
}

SignalWatcher::~SignalWatcher() {
  loop_.remove(fd_.get());
  ::SetConsoleCtrlHandler(on_console_event, FALSE);
  ConsoleSignals& state = console_signals();
  std::lock_guard lock(state.mutex);
  ::closesocket(state.write_end);
  state.write_end = INVALID_SOCKET;
  state.watched.clear();
}

void SignalWatcher::pass_next_interrupt() {
  drain(fd_.get(), nullptr);
  ConsoleSignals& state = console_signals();
  std::lock_guard lock(state.mutex);
  state.interrupt_passes = true;
}

void SignalWatcher::on_ready(Readiness) { drain(fd_.get(), callback_); }

}  // namespace rtether::io
