// DeviceWatcher; see device_watcher.hpp.
#include "adb/device_watcher.hpp"

#include "io/log.hpp"

namespace rtether::adb {

namespace {
// The long form: the same lists, plus each device's model for the status.
constexpr const char* kTrackDevices = "host:track-devices-l";
constexpr std::size_t kReadChunk = 16384;
}  // namespace

DeviceWatcher::DeviceWatcher(io::EventLoop& loop, ServerAddress server, Callbacks callbacks)
    : loop_(loop),
      server_(std::move(server)),
      callbacks_(std::move(callbacks)),
      retry_timer_(loop, [this] { connect(); }),
      handshake_timer_(loop, [this] {
        drop_connection("no answer to track-devices within " +
                            std::to_string(handshake_timeout_.count()) + " ms",
                        false);
      }) {}

DeviceWatcher::~DeviceWatcher() {
  if (fd_.valid()) loop_.remove(fd_.get());
}

void DeviceWatcher::start() { connect(); }

void DeviceWatcher::connect() {
  parser_ = HostReplyParser{};
  auto connection = server_.kind == ServerAddress::Kind::Unix
                        ? io::connect_unix_nonblocking(server_.unix_path)
                        : io::connect_nonblocking(io::Transport::Tcp,
                                                  io::Endpoint{server_.address, server_.port});
  if (!connection) {
    drop_connection(connection.error().message(), true);
    return;
  }
  fd_ = std::move(connection->fd);
  phase_ = Phase::Connecting;
  loop_.add(fd_.get(), io::Interest::ReadWrite, io::Trigger::Edge, this);
  handshake_timer_.arm(loop_.now() + handshake_timeout_);
}

void DeviceWatcher::on_ready(io::Readiness readiness) {
  if (phase_ == Phase::Connecting) {
    if (!readiness.writable && !readiness.error && !readiness.hangup) return;
    if (auto error = io::connect_result(fd_.get())) {
      drop_connection(error.message(), true);
      return;
    }
    send_request();
    if (phase_ != Phase::Tracking) return;
  }
  if (phase_ == Phase::Tracking && readiness.readable_or_closed()) read_stream();
}

void DeviceWatcher::send_request() {
  const std::string request = *frame_request(kTrackDevices);
  auto sent = io::send_some(
      fd_.get(),
      wire::Bytes(reinterpret_cast<const std::uint8_t*>(request.data()), request.size()));
  // A fresh socket's buffer always takes these 22 bytes at once.
  if (!sent || *sent != request.size()) {
    drop_connection(!sent ? sent.error().message() : "short write", true);
    return;
  }
  phase_ = Phase::Tracking;
  loop_.modify(fd_.get(), io::Interest::Read, io::Trigger::Edge, this);
}

void DeviceWatcher::read_stream() {
  std::vector<std::string> messages;
  std::uint8_t buffer[kReadChunk];
  for (;;) {
    auto got = io::recv_some(fd_.get(), wire::MutableBytes(buffer, sizeof buffer));
    if (got.would_block()) break;
    if (got.error() == std::errc::interrupted) continue;
    if (!got || *got == 0) {
      // Messages complete before the end still count.
      for (const auto& message : messages) handle_message(message);
      drop_connection(got ? "the adb server closed the connection" : got.error().message(), true);
      return;
    }
    bool ok = parser_.feed(std::string_view(reinterpret_cast<const char*>(buffer), *got), messages);
    if (!ok) {
      for (const auto& message : messages) handle_message(message);
      drop_connection(parser_.state() == HostReplyParser::State::Failed
                          ? "the adb server refused track-devices: " + parser_.reason()
                          : parser_.error(),
                      false);
      return;
    }
  }
  for (const auto& message : messages) handle_message(message);
}

void DeviceWatcher::handle_message(const std::string& message) {
  if (!listed_since_connect_) {
    log::info("watching devices through the adb server at {}", server_.to_string());
    listed_since_connect_ = true;
    handshake_timer_.cancel();
    ++connections_;
    outage_reported_ = false;
    retry_delay_ = kFirstRetry;
  }
  DeviceList list = parse_device_list(message);
  if (list.malformed_lines > 0)
    log::warn("adb server sent {} malformed device line(s); ignored", list.malformed_lines);
  auto changes = tracker_.update(list);
  for (const auto& serial : changes.gone) {
    log::info("device {} gone", serial);
    if (callbacks_.gone) callbacks_.gone(serial);
  }
  for (const auto& serial : changes.appeared) {
    log::info("device {} connected", serial);
    if (callbacks_.appeared) callbacks_.appeared(serial);
  }
  // Last, so it can say more than "gone" (a device now offline, say).
  if (callbacks_.listed) callbacks_.listed(list);
}

void DeviceWatcher::drop_connection(const std::string& reason, bool unreachable) {
  handshake_timer_.cancel();
  if (fd_.valid()) {
    loop_.remove(fd_.get());
    fd_.reset();
  }
  phase_ = Phase::Idle;
  listed_since_connect_ = false;
  for (const auto& serial : tracker_.ready()) {
    log::info("device {} unknown (adb server connection lost)", serial);
    if (callbacks_.gone) callbacks_.gone(serial);
  }
  tracker_.reset();
  if (!outage_reported_) {
    if (unreachable) {
      log::warn("adb server at {} unreachable ({}); starting it and retrying",
                server_.to_string(), reason);
    } else {
      log::warn("adb server at {}: {}; retrying", server_.to_string(), reason);
    }
    outage_reported_ = true;
  } else {
    log::debug("adb server at {} still unusable ({})", server_.to_string(), reason);
  }
  if (unreachable && callbacks_.server_unreachable) callbacks_.server_unreachable(reason);
  retry_timer_.arm(loop_.now() + retry_delay_);
  retry_delay_ = std::min<std::chrono::milliseconds>(retry_delay_ * 2, kMaxRetry);
}

}  // namespace rtether::adb
