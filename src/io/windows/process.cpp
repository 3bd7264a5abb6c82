// spawn (CreateProcessW into rtether's job object), Process (a process
// HANDLE), ExitStatus and run_process (overlapped named pipes waited on
// beside the process in one loop); see process.hpp.
#include "io/process.hpp"

#include <fmt/format.h>
#include <io.h>
#include <windows.h>

#include <algorithm>
#include <array>
#include <utility>

#include "io/windows/win32_error.hpp"
#include "io/windows/winsock.hpp"
#include "io/windows_command_line.hpp"

namespace rtether::io {

namespace {
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kCancelCheck = 100ms;  // the cancel flag, as on Linux
// A cancel fd is a socket, which cannot be waited on beside handles
// without changing its mode: it is polled this often.
constexpr auto kCancelFdCheck = 20ms;
constexpr auto kOutputGrace = 200ms;
constexpr std::size_t kMaxCaptured = 4 << 20;  // output kept per stream
constexpr DWORD kPipeBuffer = 4096;
// SIGKILL's number (Windows' signal.h has none): what run_process ends a
// child with, reported as exit code 128 + 9 like a shell's $?.
constexpr int kKillSignal = 9;
constexpr int kSignalExitBase = 128;

class Handle {
 public:
  Handle() = default;
  explicit Handle(HANDLE handle) : handle_(handle) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  HANDLE get() const { return handle_; }
  bool valid() const { return handle_ != nullptr && handle_ != INVALID_HANDLE_VALUE; }
  HANDLE release() { return std::exchange(handle_, nullptr); }
  void reset() {
    if (valid()) ::CloseHandle(handle_);
    handle_ = nullptr;
  }

 private:
  HANDLE handle_ = nullptr;
};

// A C runtime descriptor owning a handle (what SpawnOptions::Redirect
// names on Windows).
class CrtFd {
 public:
  explicit CrtFd(HANDLE handle) : fd_(::_open_osfhandle(reinterpret_cast<intptr_t>(handle), 0)) {
    if (fd_ < 0) ::CloseHandle(handle);
  }
  ~CrtFd() { reset(); }
  CrtFd(const CrtFd&) = delete;
  CrtFd& operator=(const CrtFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::_close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

HANDLE handle_of(std::intptr_t native) { return reinterpret_cast<HANDLE>(native); }

// rtether's job object, made on first use and never closed by rtether: the
// system closes it when rtether ends, however it ends, and
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE then terminates the children still in
// it ("Job Objects" in Microsoft's docs). Their own children are left out
// (JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK): the adb server an adb client
// starts must outlive rtether.
class ChildrenJob {
 public:
  static ChildrenJob& instance() {
    static ChildrenJob job;
    return job;
  }
  HANDLE handle() const { return job_; }
  const std::error_code& error() const { return error_; }

 private:
  ChildrenJob() : job_(::CreateJobObjectW(nullptr, nullptr)) {
    if (job_ == nullptr) {
      error_ = last_win32_error();
      return;
    }
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK;
    if (!::SetInformationJobObject(job_, JobObjectExtendedLimitInformation, &limits,
                                   sizeof limits)) {
      error_ = last_win32_error();
      ::CloseHandle(job_);
      job_ = nullptr;
    }
  }
  HANDLE job_;
  std::error_code error_;
};

bool has_separator(const std::string& program) {
  return program.find_first_of("/\\:") != std::string::npos;
}

bool has_extension(const std::string& program) {
  std::size_t dot = program.rfind('.');
  std::size_t separator = program.find_last_of("/\\:");
  return dot != std::string::npos && (separator == std::string::npos || dot > separator);
}

bool is_file(const std::wstring& path) {
  DWORD attributes = ::GetFileAttributesW(path.c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

std::wstring environment_variable(const wchar_t* name) {
  DWORD size = ::GetEnvironmentVariableW(name, nullptr, 0);
  if (size == 0) return {};
  std::wstring value(size, L'\0');
  value.resize(::GetEnvironmentVariableW(name, value.data(), size));
  return value;
}

// The file CreateProcessW is given for argv[0]: NAME.exe, then NAME (a
// name with an extension as it is), as given when it holds a separator,
// else in each PATH directory in order. Empty when none is a file.
std::wstring find_program(const std::string& program) {
  std::vector<std::wstring> names;
  if (!has_extension(program)) names.push_back(widen(program + ".exe"));
  names.push_back(widen(program));
  std::vector<std::wstring> directories{L""};
  if (!has_separator(program)) {
    directories.clear();
    std::wstring path = environment_variable(L"PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
      std::size_t end = std::min(path.find(L';', start), path.size());
      std::wstring directory = path.substr(start, end - start);
      if (!directory.empty()) {
        if (directory.back() != L'\\' && directory.back() != L'/') directory += L'\\';
        directories.push_back(directory);
      }
      start = end + 1;
    }
  }
  for (const auto& directory : directories)
    for (const auto& name : names)
      if (is_file(directory + name)) return directory + name;
  return {};
}

// Starts argv with the given standard handles (null: none), each passed
// as an inheritable copy and only those inherited
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), suspended until it is in the job.
// Returns the process handle, or null with `result` saying why.
HANDLE start_child(const std::vector<std::string>& argv, const std::array<HANDLE, 3>& std_handles,
                   bool own_process_group, SpawnResult& result) {
  const std::string& program = argv.front();
  auto failed = [&](std::error_code error, const char* step) -> HANDLE {
    result.error = error;
    result.failure = "cannot run " + program + ": " + step + error.message();
    return nullptr;
  };
  std::wstring application = find_program(program);
  if (application.empty()) return failed(win32_error(ERROR_FILE_NOT_FOUND), "");
  ChildrenJob& job = ChildrenJob::instance();
  if (job.handle() == nullptr) return failed(job.error(), "job object: ");

  std::array<Handle, 3> inherited;
  std::vector<HANDLE> inherit_list;
  for (std::size_t i = 0; i < std_handles.size(); ++i) {
    HANDLE source = std_handles[i];
    if (source == nullptr || source == INVALID_HANDLE_VALUE) continue;
    HANDLE copy = nullptr;
    if (!::DuplicateHandle(::GetCurrentProcess(), source, ::GetCurrentProcess(), &copy, 0, TRUE,
                           DUPLICATE_SAME_ACCESS))
      return failed(last_win32_error(), "DuplicateHandle: ");
    inherited[i] = Handle(copy);
    inherit_list.push_back(copy);
  }
  SIZE_T attributes_size = 0;
  ::InitializeProcThreadAttributeList(nullptr, 1, 0, &attributes_size);
  std::vector<char> attributes_storage(attributes_size);
  auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attributes_storage.data());
  if (!::InitializeProcThreadAttributeList(attributes, 1, 0, &attributes_size))
    return failed(last_win32_error(), "InitializeProcThreadAttributeList: ");
  struct AttributesCleanup {
    LPPROC_THREAD_ATTRIBUTE_LIST list;
    ~AttributesCleanup() { ::DeleteProcThreadAttributeList(list); }
  } cleanup{attributes};
  if (!inherit_list.empty() &&
      !::UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                   inherit_list.data(), inherit_list.size() * sizeof(HANDLE),
                                   nullptr, nullptr))
    return failed(last_win32_error(), "UpdateProcThreadAttribute: ");

  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof startup;
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = inherited[0].get();
  startup.StartupInfo.hStdOutput = inherited[1].get();
  startup.StartupInfo.hStdError = inherited[2].get();
  startup.lpAttributeList = attributes;
  std::wstring command_line = widen(windows_command_line(argv));
  DWORD flags = CREATE_SUSPENDED | EXTENDED_STARTUPINFO_PRESENT;
  if (own_process_group) flags |= CREATE_NEW_PROCESS_GROUP;
  PROCESS_INFORMATION started{};
  if (!::CreateProcessW(application.c_str(), command_line.data(), nullptr, nullptr,
                        inherit_list.empty() ? FALSE : TRUE, flags, nullptr, nullptr,
                        &startup.StartupInfo, &started))
    return failed(last_win32_error(), "");
  Handle thread(started.hThread);
  if (started.hProcess == nullptr) {
    // Wine runs a Unix program it is asked to start outside Windows' view:
    // no handle to wait on, no exit code, no output through the pipes.
    return failed(win32_error(ERROR_NOT_SUPPORTED),
                  "started as a Unix program by Wine, which gives no process handle: ");
  }
  if (!::AssignProcessToJobObject(job.handle(), started.hProcess)) {
    std::error_code error = last_win32_error();
    ::TerminateProcess(started.hProcess, kSignalExitBase + kKillSignal);
    ::WaitForSingleObject(started.hProcess, INFINITE);
    ::CloseHandle(started.hProcess);
    return failed(error, "job object: ");
  }
  ::ResumeThread(thread.get());
  return started.hProcess;
}

// A pipe the child writes its stdout or stderr to: the child's end
// synchronous, ours overlapped so that one wait covers both pipes and the
// process (anonymous pipes cannot be read overlapped, hence a named one).
class OutputPipe {
 public:
  std::error_code open() {
    static std::atomic<unsigned> serial{0};
    std::wstring name = widen(
        fmt::format("\\\\.\\pipe\\rtether-{}-{}", ::GetCurrentProcessId(), serial.fetch_add(1)));
    read_ = Handle(::CreateNamedPipeW(
        name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
        PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, kPipeBuffer, kPipeBuffer, 0,
        nullptr));
    if (!read_.valid()) return last_win32_error();
    write_ = Handle(::CreateFileW(name.c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                  FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!write_.valid()) return last_win32_error();
    event_ = Handle(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!event_.valid()) return last_win32_error();
    overlapped_.hEvent = event_.get();
    return {};
  }
  ~OutputPipe() {
    if (!pending_) return;
    DWORD got = 0;
    ::CancelIoEx(read_.get(), &overlapped_);
    ::GetOverlappedResult(read_.get(), &overlapped_, &got, TRUE);
  }

  HANDLE release_child_end() { return write_.release(); }
  bool open_for_reading() const { return !closed_; }
  HANDLE event() const { return event_.get(); }

  // Starts the next read; false once the child's end is closed everywhere.
  void start_read(std::string& sink) {
    while (!closed_ && !pending_) {
      ::ResetEvent(event_.get());
      DWORD got = 0;
      if (::ReadFile(read_.get(), buffer_, sizeof buffer_, &got, &overlapped_)) {
        keep(sink, got);
        continue;
      }
      if (::GetLastError() == ERROR_IO_PENDING) {
        pending_ = true;
      } else {
        closed_ = true;  // ERROR_BROKEN_PIPE: every writer has gone
      }
    }
  }
  // After event() was signalled: takes the bytes read and reads on.
  void finish_read(std::string& sink) {
    if (!pending_) return;
    DWORD got = 0;
    BOOL done = ::GetOverlappedResult(read_.get(), &overlapped_, &got, FALSE);
    if (!done && ::GetLastError() == ERROR_IO_INCOMPLETE) return;
    pending_ = false;
    if (!done) {
      closed_ = true;
      return;
    }
    keep(sink, got);
    start_read(sink);
  }

 private:
  void keep(std::string& sink, DWORD got) {
    if (sink.size() < kMaxCaptured) sink.append(buffer_, got);
  }

  Handle read_;
  Handle write_;
  Handle event_;
  OVERLAPPED overlapped_{};
  char buffer_[kPipeBuffer];
  bool pending_ = false;
  bool closed_ = false;
};
}  // namespace

std::string ExitStatus::description() const {
  if (kind_ == Kind::Signalled) return "signal " + std::to_string(number_);
  // Codes above 2^31 are NTSTATUS values (0xC000013A: ended by Ctrl+C),
  // which Microsoft's docs list in hex.
  if (number_ < 0) return fmt::format("exit status 0x{:08X}", static_cast<unsigned>(number_));
  return "exit status " + std::to_string(number_);
}

Process::~Process() {
  if (running()) {
    kill(kKillSignal);
    reap_now();
  }
  if (started()) ::CloseHandle(handle_of(native_));
}

Process::Process(Process&& other) noexcept
    : native_(std::exchange(other.native_, kNoProcess)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) {
      kill(kKillSignal);
      reap_now();
    }
    if (started()) ::CloseHandle(handle_of(native_));
    native_ = std::exchange(other.native_, kNoProcess);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

ProcessId Process::pid() const {
  return started() ? static_cast<ProcessId>(::GetProcessId(handle_of(native_))) : -1;
}

bool Process::poll() {
  if (!running()) return started();
  if (::WaitForSingleObject(handle_of(native_), 0) == WAIT_OBJECT_0) reap_now();
  return status_.has_value();
}

bool Process::wait_for(std::chrono::milliseconds timeout) {
  if (!running()) return started();
  DWORD wait_ms = static_cast<DWORD>(std::clamp<std::int64_t>(timeout.count(), 0, INFINITE - 1));
  if (::WaitForSingleObject(handle_of(native_), wait_ms) == WAIT_OBJECT_0) reap_now();
  return status_.has_value();
}

ExitStatus Process::wait() {
  if (running()) reap_now();
  return *status_;
}

void Process::reap_now() {
  ::WaitForSingleObject(handle_of(native_), INFINITE);
  DWORD code = 0;
  ::GetExitCodeProcess(handle_of(native_), &code);
  status_ = ExitStatus::exited(static_cast<int>(code));
}

void Process::kill(int signal) const {
  if (running())
    ::TerminateProcess(handle_of(native_), static_cast<UINT>(kSignalExitBase + signal));
}

bool Process::stop(std::chrono::milliseconds) {
  if (poll()) return true;
  kill(kKillSignal);
  reap_now();
  return false;
}

SpawnResult spawn(const SpawnOptions& options) {
  SpawnResult result;
  if (options.argv.empty()) {
    result.error = std::make_error_code(std::errc::invalid_argument);
    result.failure = "cannot run an empty command";
    return result;
  }
  const std::string& program = options.argv.front();
  if (options.before_exec) {
    result.error = std::make_error_code(std::errc::function_not_supported);
    result.failure = "cannot run " + program + ": a step between fork and exec needs Linux";
    return result;
  }
  std::array<HANDLE, 3> std_handles{::GetStdHandle(STD_INPUT_HANDLE),
                                    ::GetStdHandle(STD_OUTPUT_HANDLE),
                                    ::GetStdHandle(STD_ERROR_HANDLE)};
  std::array<bool, 3> redirected{};
  for (const auto& redirect : options.redirects) {
    if (redirect.to < 0 || redirect.to >= static_cast<int>(std_handles.size())) {
      result.error = std::make_error_code(std::errc::invalid_argument);
      result.failure = "cannot run " + program + ": a Windows child has only descriptors 0-2";
      return result;
    }
    if (redirect.to == redirect.from) continue;
    // In order, as a shell: "2 from 1" after "1 from F" gives 2 F too.
    bool from_redirected = redirect.from >= 0 &&
                           redirect.from < static_cast<int>(std_handles.size()) &&
                           redirected[static_cast<std::size_t>(redirect.from)];
    HANDLE source = from_redirected ? std_handles[static_cast<std::size_t>(redirect.from)]
                                    : reinterpret_cast<HANDLE>(::_get_osfhandle(redirect.from));
    if (source == INVALID_HANDLE_VALUE) {
      result.error = std::make_error_code(std::errc::bad_file_descriptor);
      result.failure = "cannot run " + program + ": descriptor " + std::to_string(redirect.from) +
                       " is not open";
      return result;
    }
    std_handles[static_cast<std::size_t>(redirect.to)] = source;
    redirected[static_cast<std::size_t>(redirect.to)] = true;
  }
  HANDLE process = start_child(options.argv, std_handles, options.own_process_group, result);
  if (process != nullptr) result.process = Process(reinterpret_cast<std::intptr_t>(process));
  return result;
}

bool fd_readable(int fd) {
  if (fd < 0) return false;
  WSAPOLLFD probe{to_socket(fd), POLLRDNORM, 0};
  return ::WSAPoll(&probe, 1, 0) > 0 && (probe.revents & (POLLRDNORM | POLLHUP)) != 0;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::atomic<bool>* cancel, int cancel_fd, bool own_process_group) {
  ProcessResult result;
  auto cancel_requested = [&] {
    return (cancel != nullptr && cancel->load()) || fd_readable(cancel_fd);
  };
  if (cancel_requested()) {
    result.cancelled = true;
    return result;
  }
  if (argv.empty()) {
    result.spawn_error = std::make_error_code(std::errc::invalid_argument);
    return result;
  }
  Handle no_input(::CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!no_input.valid()) {
    result.spawn_error = last_win32_error();
    return result;
  }
  std::array<OutputPipe, 2> pipes;
  for (auto& pipe : pipes) {
    if (auto error = pipe.open()) {
      result.spawn_error = error;
      return result;
    }
  }
  // Through spawn() as on Linux: the child's ends as C runtime descriptors.
  std::array<CrtFd, 3> child_ends{CrtFd(no_input.release()), CrtFd(pipes[0].release_child_end()),
                                  CrtFd(pipes[1].release_child_end())};
  SpawnOptions options;
  options.argv = argv;
  for (int to = 0; to < 3; ++to) {
    if (!child_ends[static_cast<std::size_t>(to)].valid()) {
      result.spawn_error = std::make_error_code(std::errc::too_many_files_open);
      return result;
    }
    options.redirects.push_back({to, child_ends[static_cast<std::size_t>(to)].get()});
  }
  options.own_process_group = own_process_group;
  SpawnResult spawned = spawn(options);
  if (!spawned.process.started()) {
    result.spawn_error = spawned.error;
    return result;
  }
  Process& child = spawned.process;
  result.started = true;
  std::string* sinks[2] = {&result.out, &result.err};
  for (auto& end : child_ends) end.reset();
  for (std::size_t i = 0; i < pipes.size(); ++i) pipes[i].start_read(*sinks[i]);

  const auto deadline = Clock::now() + timeout;
  const auto step = cancel_fd >= 0 ? kCancelFdCheck : kCancelCheck;
  bool exited = false;
  auto exited_at = deadline;
  for (;;) {
    auto now = Clock::now();
    bool streams_open = pipes[0].open_for_reading() || pipes[1].open_for_reading();
    if (exited && (!streams_open || now - exited_at > kOutputGrace)) break;
    if (!exited && cancel_requested()) {
      result.cancelled = true;
      break;
    }
    if (!exited && now >= deadline) {
      result.timed_out = true;
      break;
    }
    // The pipes' events; the child's exit is polled after each wake-up (its
    // end of the pipes usually closes with it).
    std::vector<HANDLE> waited;
    for (const auto& pipe : pipes)
      if (pipe.open_for_reading()) waited.push_back(pipe.event());
    auto left = exited ? kOutputGrace -
                             std::chrono::duration_cast<std::chrono::milliseconds>(now - exited_at)
                       : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto wait = std::clamp(left, std::chrono::milliseconds(1),
                           exited ? kOutputGrace : std::chrono::milliseconds(step));
    if (!waited.empty()) {
      ::WaitForMultipleObjects(static_cast<DWORD>(waited.size()), waited.data(), FALSE,
                               static_cast<DWORD>(wait.count()));
    }
    for (std::size_t i = 0; i < pipes.size(); ++i)
      if (pipes[i].open_for_reading() &&
          ::WaitForSingleObject(pipes[i].event(), 0) == WAIT_OBJECT_0)
        pipes[i].finish_read(*sinks[i]);
    // A daemon the child started may keep the pipes open: the child's own
    // exit, not the end of its output, ends the wait (after a short grace).
    if (!exited && (waited.empty() ? child.wait_for(wait) : child.poll())) {
      exited = true;
      exited_at = Clock::now();
    }
  }
  child.kill(kKillSignal);
  result.status = child.wait();
  return result;
}

}  // namespace rtether::io
