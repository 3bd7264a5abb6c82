// StreamFramer: cuts the client byte stream (raw IP packets back to back, no
// length prefix, as Gnirehtet sends them) into packets by each packet's own
// length field, for any split of reads.
//
// It owns one contiguous buffer of fixed capacity (>= 2 * 65535 so one whole
// maximal packet always fits after compaction). The owner reads into
// writable(), calls commit(n), then takes packets with next() until it returns
// nothing. Packets returned by next() stay valid until the next call to
// writable() (which may compact). A stream that can no longer be framed (bad
// version nibble, length below the minimum header) puts the framer into a
// sticky error state: error() says why, and the owner closes the client.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "wire/bytes.hpp"
#include "wire/ip_packet.hpp"

namespace rtether::wire {

class StreamFramer {
 public:
  static constexpr std::size_t kDefaultCapacity = 256 * 1024;
  explicit StreamFramer(std::size_t capacity = kDefaultCapacity);

  // Free space to read into (compacting first if the front was consumed).
  // Never empty unless in error.
  MutableBytes writable();
  void commit(std::size_t bytes);

  // Next complete packet, or nullopt if more bytes are needed or in error.
  std::optional<Bytes> next();

  bool failed() const { return error_ != IpError::None; }
  IpError error() const { return error_; }
  std::size_t buffered() const { return end_ - begin_; }

 private:
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  IpError error_ = IpError::None;
};

}  // namespace rtether::wire
