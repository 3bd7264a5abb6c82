// ManagementServer over a socketpair (its Attached role, as the in-process
// UI uses it): the daemon thread's blocking waits, descriptors both ways,
// a signal interrupting a wait, and the UI going away.
#include "mgmt/management_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <thread>

#include "mgmt/line_reader.hpp"

namespace rtether::mgmt {
namespace {

class ManagementServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    ui_ = io::Fd(pair[1]);
    ServerOptions options;
    options.mode = ServerOptions::Mode::Attached;
    options.attached = io::Fd(pair[0]);
    options.title = "test";
    server_.emplace(std::move(options), ManagementCore::Hooks{});
  }
  void TearDown() override {
    server_.reset();
    // The server blocked the daemon's signals in this thread: give them back.
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, signal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }

  // The next line from the daemon, and a descriptor if one came with it.
  std::string read_line(io::Fd* fd = nullptr) {
    for (;;) {
      if (!lines_.empty()) {
        auto line = lines_.front();
        lines_.erase(lines_.begin());
        return line;
      }
      pollfd ready{ui_.get(), POLLIN, 0};
      if (poll(&ready, 1, 5000) != 1) return "<timeout>";
      char buffer[4096];
      std::vector<io::Fd> fds;
      auto got = io::receive_with_fds(
          ui_.get(), {reinterpret_cast<std::uint8_t*>(buffer), sizeof buffer}, fds);
      if (!got || *got == 0) return "<eof>";
      for (auto& line : reader_.feed(std::string_view(buffer, *got))) {
        lines_.push_back(line);
      }
      if (fd && !fds.empty()) *fd = std::move(fds.back());
    }
  }
  void send(const std::string& line, int fd = -1) {
    std::string data = line + "\n";
    wire::Bytes bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    auto sent = io::send_with_fd(ui_.get(), bytes, fd);
    ASSERT_TRUE(sent);
    ASSERT_EQ(*sent, data.size());
  }

  io::Fd ui_;
  std::optional<ManagementServer> server_;
  LineReader reader_;
  std::vector<std::string> lines_;
};

TEST_F(ManagementServerTest, NeedOkCarriesDescriptorsBothWays) {
  EXPECT_EQ(read_line(), info_greeting());
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  io::Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  auto answer = std::async(std::launch::async, [&] {
    return server_->need_ok("PROTECTFD", "protect_fd_nonlocal", write_end.get());
  });
  io::Fd passed;
  EXPECT_EQ(read_line(&passed), ">NEED-OK:Need 'PROTECTFD' confirmation MSG:protect_fd_nonlocal");
  ASSERT_TRUE(passed.valid());
  ASSERT_EQ(write(passed.get(), "x", 1), 1);  // it is our pipe's write end
  char byte = 0;
  ASSERT_EQ(read(read_end.get(), &byte, 1), 1);
  send("needok 'PROTECTFD' ok");
  auto result = answer.get();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->action, "ok");
  EXPECT_EQ(read_line(), need_ok_success("PROTECTFD"));

  auto opentun = std::async(std::launch::async, [&] { return server_->need_ok("OPENTUN", "tun"); });
  EXPECT_EQ(read_line(), ">NEED-OK:Need 'OPENTUN' confirmation MSG:tun");
  send("needok 'OPENTUN' ok", read_end.get());
  auto tun = opentun.get();
  ASSERT_TRUE(tun);
  EXPECT_TRUE(tun->fd.valid());
  EXPECT_NE(tun->fd.get(), read_end.get());
}

TEST_F(ManagementServerTest, SignalInterruptsAWaitAndRaisesTheInterruptFd) {
  EXPECT_EQ(read_line(), info_greeting());
  auto answer = std::async(std::launch::async, [&] { return server_->need_ok("IFCONFIG", "x"); });
  EXPECT_EQ(read_line(), ">NEED-OK:Need 'IFCONFIG' confirmation MSG:x");
  send("signal SIGUSR1");
  EXPECT_FALSE(answer.get());
  pollfd ready{server_->interrupt_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 1000), 1);
  EXPECT_EQ(server_->take_signal(), Signal::Usr1);
  EXPECT_EQ(poll(&ready, 1, 0), 0);
  EXPECT_EQ(read_line(), "SUCCESS: signal SIGUSR1 thrown");
}

TEST_F(ManagementServerTest, WaitForSignalTimesOutOrEndsAtTheSignal) {
  EXPECT_EQ(read_line(), info_greeting());
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(server_->wait_for_signal(std::chrono::milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50));
  auto waited = std::async(std::launch::async,
                           [&] { return server_->wait_for_signal(std::chrono::seconds(30)); });
  send("signal SIGHUP");
  EXPECT_TRUE(waited.get());
  EXPECT_EQ(server_->pending_signal(), Signal::Hup);  // still pending: the daemon takes it
  EXPECT_EQ(server_->take_signal(), Signal::Hup);
}

TEST_F(ManagementServerTest, HoldWaitsForReleaseAndUiGoneStopsTheDaemon) {
  EXPECT_EQ(read_line(), info_greeting());
  auto released = std::async(std::launch::async, [&] { return server_->wait_hold_release(3); });
  EXPECT_EQ(read_line(), ">HOLD:Waiting for hold release:3");
  send("hold release");
  EXPECT_TRUE(released.get());
  EXPECT_EQ(read_line(), "SUCCESS: hold release succeeded");
  ui_.reset();  // the UI goes: in this role the daemon stops, as SIGTERM
  pollfd ready{server_->interrupt_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 5000), 1);
  EXPECT_EQ(server_->take_signal(), Signal::Term);
}

TEST_F(ManagementServerTest, UiThatStopsReadingIsDroppedNotQueuedForEver) {
  EXPECT_EQ(read_line(), info_greeting());
  send("log on");
  EXPECT_EQ(read_line(), "SUCCESS: real-time log notification set to ON");
  // The UI keeps its socket open but reads nothing more: the daemon's log
  // lines fill the socket buffer, then the queue; past kMaxQueuedOutput the
  // UI is dropped (in this role: the daemon stops), and nothing blocks.
  const std::string text(1000, 'x');
  pollfd ready{server_->interrupt_fd(), POLLIN, 0};
  std::size_t logged = 0;
  for (; logged < 20 * kMaxQueuedOutput / text.size(); ++logged) {
    server_->log("I", text);
    if (poll(&ready, 1, 0) == 1) break;
  }
  EXPECT_EQ(poll(&ready, 1, 5000), 1);
  EXPECT_EQ(server_->take_signal(), Signal::Term);
  EXPECT_GT(logged * text.size(), kMaxQueuedOutput);
  // What was queued is gone with the UI: the socket was closed after the
  // bytes the kernel had taken.
  char buffer[65536];
  std::size_t drained = 0;
  for (;;) {
    long got = read(ui_.get(), buffer, sizeof buffer);
    if (got <= 0) break;
    drained += static_cast<std::size_t>(got);
  }
  EXPECT_LT(drained, logged * text.size());
}

TEST_F(ManagementServerTest, UiThatSendsCommandsButReadsNoRepliesIsDropped) {
  EXPECT_EQ(read_line(), info_greeting());
  // `help` costs the daemon ~1 KiB of reply per 5 bytes of command: a UI
  // that streams them and never reads is dropped once the replies pass
  // kMaxQueuedOutput (here: the daemon stops), and the session thread's
  // calls keep working meanwhile.
  int flags = fcntl(ui_.get(), F_GETFL);
  ASSERT_EQ(fcntl(ui_.get(), F_SETFL, flags | O_NONBLOCK), 0);
  const std::string commands = [] {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "help\n";
    return text;
  }();
  pollfd ready{server_->interrupt_fd(), POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool dropped = false;
  while (!dropped && std::chrono::steady_clock::now() < deadline) {
    // MSG_NOSIGNAL: once the daemon has dropped us, the next send fails
    // with EPIPE rather than killing the test with SIGPIPE.
    if (::send(ui_.get(), commands.data(), commands.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN)
      break;
    server_->set_state({});  // never blocks on the stuck UI
    dropped = poll(&ready, 1, 1) == 1;
  }
  EXPECT_EQ(poll(&ready, 1, 5000), 1);
  EXPECT_EQ(server_->take_signal(), Signal::Term);
}

// `--management IP PORT PWFILE`: a TCP link beside the attached UI. The TCP
// client must log in; it answers the hold and sees states, while NEED-OKs
// stay with the UI; it may leave and come back without stopping anything.
class ManagementTcpTest : public ManagementServerTest {
 protected:
  void SetUp() override { start(kTcpLoginTimeout); }
  void start(std::chrono::milliseconds login_timeout) {
    server_.reset();
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    ui_ = io::Fd(pair[1]);
    ServerOptions options;
    options.mode = ServerOptions::Mode::Attached;
    options.attached = io::Fd(pair[0]);
    options.title = "test";
    options.hold = true;
    wire::IpAddress loopback;
    ASSERT_TRUE(wire::IpAddress::parse("127.0.0.1", loopback));
    options.tcp = io::Endpoint{loopback, 0};
    options.tcp_password = "pass word";
    options.tcp_login_timeout = login_timeout;
    server_.emplace(std::move(options), ManagementCore::Hooks{});
  }

  // A new TCP client; true once the prompt came.
  bool connect_tcp() {
    auto at = server_->tcp_endpoint();
    if (!at) return false;
    tcp_ = io::Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(at->port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(tcp_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      return false;
    }
    tcp_reader_ = LineReader();
    tcp_lines_.clear();
    return read_tcp(15) == "ENTER PASSWORD:";
  }
  // Exactly `count` bytes (the prompt has no line end).
  std::string read_tcp(std::size_t count) {
    std::string data;
    while (data.size() < count) {
      pollfd ready{tcp_.get(), POLLIN, 0};
      if (poll(&ready, 1, 5000) != 1) return "<timeout>";
      char buffer[256];
      long got = read(tcp_.get(), buffer, std::min(sizeof buffer, count - data.size()));
      if (got <= 0) return "<eof>";
      data.append(buffer, static_cast<std::size_t>(got));
    }
    return data;
  }
  std::string tcp_line() {
    while (tcp_lines_.empty()) {
      pollfd ready{tcp_.get(), POLLIN, 0};
      if (poll(&ready, 1, 5000) != 1) return "<timeout>";
      char buffer[4096];
      long got = read(tcp_.get(), buffer, sizeof buffer);
      if (got <= 0) return "<eof>";
      for (auto& line : tcp_reader_.feed(std::string_view(buffer, static_cast<std::size_t>(got)))) {
        tcp_lines_.push_back(line);
      }
    }
    auto line = tcp_lines_.front();
    tcp_lines_.erase(tcp_lines_.begin());
    return line;
  }
  void tcp_send(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(write(tcp_.get(), data.data(), data.size()), static_cast<long>(data.size()));
  }
  // The daemon's log history, as `log all` lists it (one line each).
  std::string tcp_log() {
    tcp_send("log all");
    std::string history;
    for (int i = 0; i < 100; ++i) {
      auto line = tcp_line();
      if (line == "END" || line == "<timeout>" || line == "<eof>") break;
      history += line + "\n";
    }
    return history;
  }

  io::Fd tcp_;
  LineReader tcp_reader_;
  std::vector<std::string> tcp_lines_;
};

TEST_F(ManagementTcpTest, ClientLogsInAnswersTheHoldAndLeavesTheNeedOksToTheUi) {
  EXPECT_EQ(read_line(), info_greeting());
  ASSERT_TRUE(connect_tcp());
  EXPECT_TRUE(server_->hold_flag());
  auto released = std::async(std::launch::async, [&] { return server_->wait_hold_release(2); });
  tcp_send("pass word");
  EXPECT_EQ(tcp_line(), "SUCCESS: password is correct");
  EXPECT_EQ(tcp_line(), info_greeting());
  // Whether the wait began before or after the login, the hold shows after
  // the greeting (held back until the password was right).
  EXPECT_EQ(tcp_line(), ">HOLD:Waiting for hold release:2");
  tcp_send("state on");
  EXPECT_EQ(tcp_line(), "SUCCESS: real-time state notification set to ON");
  tcp_send("hold release");
  EXPECT_EQ(tcp_line(), "SUCCESS: hold release succeeded");
  EXPECT_TRUE(released.get());

  server_->set_state({5, "ASSIGN_IP", "", "10.0.0.2", "", "", "", "", ""});
  EXPECT_EQ(tcp_line(), ">STATE:5,ASSIGN_IP,,10.0.0.2,,,,");
  auto answer = std::async(std::launch::async,
                           [&] { return server_->need_ok("IFCONFIG", "10.0.0.2 30 1500 net30"); });
  EXPECT_EQ(read_line(), ">NEED-OK:Need 'IFCONFIG' confirmation MSG:10.0.0.2 30 1500 net30");
  tcp_send("needok IFCONFIG ok");
  EXPECT_EQ(tcp_line(), "ERROR: no needok-confirmation is currently needed at this time");
  tcp_send("network-change");
  EXPECT_EQ(tcp_line(), "ERROR: unknown command, enter 'help' for more options");
  send("needok IFCONFIG ok");
  auto got = answer.get();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->action, "ok");

  // Leaving stops nothing; the next client logs in again.
  tcp_.reset();
  ASSERT_TRUE(connect_tcp());
  EXPECT_FALSE(server_->pending_signal());
  tcp_send("pass word");
  EXPECT_EQ(tcp_line(), "SUCCESS: password is correct");
  EXPECT_EQ(tcp_line(), info_greeting());
  tcp_send("signal SIGTERM");
  EXPECT_EQ(tcp_line(), "SUCCESS: signal SIGTERM thrown");
  pollfd ready{server_->interrupt_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&ready, 1, 5000), 1);
  EXPECT_EQ(server_->take_signal(), Signal::Term);
}

TEST_F(ManagementTcpTest, ThreeWrongPasswordsCloseTheConnectionOnly) {
  ASSERT_TRUE(connect_tcp());
  tcp_send("guess");
  EXPECT_EQ(read_tcp(15), "ENTER PASSWORD:");
  tcp_send("guess");
  EXPECT_EQ(read_tcp(15), "ENTER PASSWORD:");
  tcp_send("guess");
  EXPECT_EQ(read_tcp(1), "<eof>");
  EXPECT_FALSE(server_->pending_signal());
  ASSERT_TRUE(connect_tcp());
}

// One packet with many guesses: the third wrong one closes the connection
// and the rest of the packet (the right password, a signal) is not run.
TEST_F(ManagementTcpTest, WrongPasswordsInOneWriteStopAtTheThird) {
  ASSERT_TRUE(connect_tcp());
  tcp_send("guess\nguess\nguess\npass word\nsignal SIGTERM");
  EXPECT_EQ(read_tcp(1), "<eof>");
  EXPECT_FALSE(server_->wait_for_signal(std::chrono::milliseconds(200)));
  ASSERT_TRUE(connect_tcp());
  tcp_send("pass word");
  EXPECT_EQ(tcp_line(), "SUCCESS: password is correct");
  EXPECT_EQ(tcp_line(), info_greeting());
  EXPECT_NE(tcp_log().find(",W,MAN: client connection rejected after 3 failed password attempts"),
            std::string::npos);
  EXPECT_FALSE(server_->pending_signal());
}

// A client that does not log in is closed after tcp_login_timeout, so the
// one-client port is free again; one that logged in stays past it.
TEST_F(ManagementTcpTest, SilentClientIsClosedAfterTheLoginTimeout) {
  start(std::chrono::milliseconds(300));
  ASSERT_TRUE(connect_tcp());
  auto connected = std::chrono::steady_clock::now();
  EXPECT_EQ(read_tcp(1), "<eof>");
  EXPECT_GE(std::chrono::steady_clock::now() - connected, std::chrono::milliseconds(250));

  ASSERT_TRUE(connect_tcp());
  tcp_send("pass word");
  EXPECT_EQ(tcp_line(), "SUCCESS: password is correct");
  EXPECT_EQ(tcp_line(), info_greeting());
  EXPECT_NE(tcp_log().find(",W,MAN: client connection closed: no password within 0.3s"),
            std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  tcp_send("state on");
  EXPECT_EQ(tcp_line(), "SUCCESS: real-time state notification set to ON");
}

// Listen role on a socket file: 0600, one UI after the other, and a path a
// live process listens on is refused rather than taken over.
class ManagementListenTest : public ::testing::Test {
 protected:
  void TearDown() override {
    sigset_t set;
    sigemptyset(&set);
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, signal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::unlink(path_.c_str());
  }
  ServerOptions options() {
    ServerOptions options;
    options.mode = ServerOptions::Mode::Listen;
    options.path = path_;
    options.title = "test";
    return options;
  }
  static std::string greeting_of(int fd) {
    std::string seen;
    LineReader reader;
    for (int i = 0; i < 50; ++i) {
      pollfd ready{fd, POLLIN, 0};
      if (poll(&ready, 1, 5000) != 1) return "<timeout>";
      char buffer[512];
      long got = read(fd, buffer, sizeof buffer);
      if (got <= 0) return "<eof>";
      auto lines = reader.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
      if (!lines.empty()) return lines.front();
    }
    return "<nothing>";
  }
  std::string path_ = "/tmp/rtether-mgmt-listen-test-" + std::to_string(getpid()) + ".sock";
};

TEST_F(ManagementListenTest, RefusesAPathALiveProcessListensOn) {
  io::Fd other = io::listen_unix(path_, 1);
  EXPECT_THROW(ManagementServer(options(), ManagementCore::Hooks{}), std::runtime_error);
  struct stat info {};
  EXPECT_EQ(::lstat(path_.c_str(), &info), 0);  // still the other process's
  other.reset();  // now only a stale file is left: that one is taken over
  ManagementServer server(options(), ManagementCore::Hooks{});
  ASSERT_EQ(::lstat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(ManagementListenTest, GreetsTheNextUiAfterOneLeaves) {
  ManagementServer server(options(), ManagementCore::Hooks{});
  for (int ui = 0; ui < 2; ++ui) {
    io::Fd client = io::connect_unix_blocking(path_);
    EXPECT_EQ(greeting_of(client.get()), info_greeting()) << "UI " << ui;
  }
  EXPECT_FALSE(server.pending_signal());  // a UI leaving stops nothing here
}

TEST_F(ManagementListenTest, PathUnixPwfileAsksForThePassword) {
  auto with_password = options();
  with_password.password = "secret";
  ManagementServer server(std::move(with_password), ManagementCore::Hooks{});
  io::Fd client = io::connect_unix_blocking(path_);
  char prompt[15];
  pollfd ready{client.get(), POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, 5000), 1);
  ASSERT_EQ(read(client.get(), prompt, sizeof prompt), 15);
  EXPECT_EQ(std::string(prompt, sizeof prompt), "ENTER PASSWORD:");
  ASSERT_EQ(write(client.get(), "secret\n", 7), 7);
  EXPECT_EQ(greeting_of(client.get()), "SUCCESS: password is correct");
}

TEST_F(ManagementListenTest, ConnectRoleAsksTheUiItReachesForThePassword) {
  io::Fd ui_listener = io::listen_unix(path_, 1);
  ServerOptions connect;
  connect.mode = ServerOptions::Mode::Connect;
  connect.path = path_;
  connect.title = "test";
  connect.password = "secret";
  ManagementServer server(std::move(connect), ManagementCore::Hooks{});
  pollfd waiting{ui_listener.get(), POLLIN, 0};
  ASSERT_EQ(poll(&waiting, 1, 5000), 1);
  auto ui = io::accept_nonblocking(ui_listener.get());
  ASSERT_TRUE(ui);
  io::set_nonblocking(ui->get(), false);
  char prompt[15];
  ASSERT_EQ(read(ui->get(), prompt, sizeof prompt), 15);
  EXPECT_EQ(std::string(prompt, sizeof prompt), "ENTER PASSWORD:");
  ASSERT_EQ(write(ui->get(), "secret\n", 7), 7);
  EXPECT_EQ(greeting_of(ui->get()), "SUCCESS: password is correct");
}

}  // namespace
}  // namespace rtether::mgmt
