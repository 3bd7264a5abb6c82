// StreamFramer: cuts the client byte stream into IP packets.
//
// The buffer is one contiguous array with a consumed front [0, begin_), the
// pending bytes [begin_, end_) and free space [end_, capacity_). Packets are
// handed out as spans into the pending bytes, so nothing is copied per
// packet. Compaction (one memmove of the pending bytes to the front) happens
// only in writable(), and only when the free tail is shorter than one
// maximal packet: as long as the owner drains next() before reading again,
// fewer than kMaxPacket + kIpv6Header bytes are pending, so after compaction
// the free space is never empty.
#include "wire/stream_framer.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace rtether::wire {
namespace {

// Room for one maximal packet pending plus one maximal read.
constexpr std::size_t kMinimumCapacity = 2 * kMaxPacket;

}  // namespace

StreamFramer::StreamFramer(std::size_t capacity)
    : capacity_(std::max(capacity, kMinimumCapacity)) {
  // Left uninitialised: only bytes the owner has committed are ever read.
  buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
}

MutableBytes StreamFramer::writable() {
  if (failed()) return {};
  if (begin_ == end_) {
    begin_ = end_ = 0;
  } else if (capacity_ - end_ < kMaxPacket && begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return MutableBytes(buffer_.get() + end_, capacity_ - end_);
}

void StreamFramer::commit(std::size_t bytes) {
  assert(bytes <= capacity_ - end_);
  end_ += bytes;
}

std::optional<Bytes> StreamFramer::next() {
  if (failed()) return std::nullopt;
  const Bytes pending(buffer_.get() + begin_, end_ - begin_);
  const IpLengthResult length = ip_packet_length(pending);
  if (length.error != IpError::None) {
    error_ = length.error;
    return std::nullopt;
  }
  if (length.length == 0 || length.length > pending.size()) return std::nullopt;
  begin_ += length.length;
  return pending.first(length.length);
}

}  // namespace rtether::wire
