// ByteQueue: a FIFO of bytes in one contiguous buffer, allocated on first use
// and released when it drains, so an idle flow or client holds no buffer.
//
// Used for the client output stream (packets are built in place at the tail
// with reserve()/commit(), then sent from the front; kept allocated while the
// client lives, since it drains many times a second) and for device data a
// host socket could not take yet (released when drained). Capacity is fixed
// at construction; callers check room first, so it never grows past it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "wire/bytes.hpp"

namespace rtether::relay {

class ByteQueue {
 public:
  enum class WhenEmpty { Release, Keep };
  explicit ByteQueue(std::size_t capacity, WhenEmpty when_empty = WhenEmpty::Release)
      : capacity_(capacity), release_when_empty_(when_empty == WhenEmpty::Release) {}

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::size_t free_space() const { return capacity_ - size(); }

  // Contiguous room for `bytes` at the tail (compacting if needed), or an
  // empty span if the queue cannot hold them.
  wire::MutableBytes reserve(std::size_t bytes);
  void commit(std::size_t bytes) { end_ += bytes; }
  // Appends as much of data as fits; returns the count appended.
  std::size_t append(wire::Bytes data);

  wire::Bytes front() const { return {buffer_.get() + begin_, size()}; }
  void consume(std::size_t bytes);

 private:
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::size_t capacity_;
  bool release_when_empty_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace rtether::relay
