// ByteQueue: lazy allocation, compaction by memmove only when the tail lacks room.
#include "relay/byte_queue.hpp"

#include <algorithm>
#include <cstring>

namespace rtether::relay {

wire::MutableBytes ByteQueue::reserve(std::size_t bytes) {
  if (bytes > free_space()) return {};
  if (!buffer_) buffer_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity_);
  if (capacity_ - end_ < bytes) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  return {buffer_.get() + end_, bytes};
}

std::size_t ByteQueue::append(wire::Bytes data) {
  std::size_t count = std::min(data.size(), free_space());
  if (count == 0) return 0;
  auto room = reserve(count);
  std::memcpy(room.data(), data.data(), count);
  commit(count);
  return count;
}

void ByteQueue::consume(std::size_t bytes) {
  begin_ += bytes;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (release_when_empty_) buffer_.reset();
  }
}

}  // namespace rtether::relay
