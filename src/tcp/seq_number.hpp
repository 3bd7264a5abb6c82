// tcp::SeqNumber: a TCP sequence number. RFC 9293 3.4: "all arithmetic
// dealing with sequence numbers must be performed modulo 2^32", so the type
// orders modulo 2^32 and only adds lengths; a raw uint32_t becomes one (and
// back) only explicitly, at the wire boundary.
#pragma once

#include <cstdint>

namespace rtether::tcp {

class SeqNumber {
 public:
  constexpr SeqNumber() = default;
  constexpr explicit SeqNumber(std::uint32_t raw) : raw_(raw) {}

  // The field as it goes on the wire.
  constexpr std::uint32_t raw() const { return raw_; }

  // Sequence numbers from this one up to `end`; 0 when `end` is not after it.
  constexpr std::uint32_t until(SeqNumber end) const { return end > *this ? end - *this : 0; }
  // start <= this < start + size: inside a window of `size` sequence numbers.
  constexpr bool in_window(SeqNumber start, std::uint32_t size) const {
    return *this >= start && *this < start + size;
  }

  constexpr SeqNumber& operator+=(std::uint32_t length) {
    raw_ += length;
    return *this;
  }
  constexpr SeqNumber& operator-=(std::uint32_t length) {
    raw_ -= length;
    return *this;
  }
  friend constexpr SeqNumber operator+(SeqNumber seq, std::uint32_t length) {
    return seq += length;
  }
  friend constexpr SeqNumber operator-(SeqNumber seq, std::uint32_t length) {
    return seq -= length;
  }
  // Sequence numbers from `start` up to `end`, modulo 2^32: meaningful only
  // when `end` is not before `start` (see until()).
  friend constexpr std::uint32_t operator-(SeqNumber end, SeqNumber start) {
    return end.raw_ - start.raw_;
  }

  // a < b when b lies less than 2^31 ahead of a. Not a total order (it wraps
  // around), so never sort by it or key a map with it.
  friend constexpr bool operator==(SeqNumber a, SeqNumber b) = default;
  friend constexpr bool operator<(SeqNumber a, SeqNumber b) {
    return static_cast<std::int32_t>(a.raw_ - b.raw_) < 0;
  }
  friend constexpr bool operator>(SeqNumber a, SeqNumber b) { return b < a; }
  friend constexpr bool operator<=(SeqNumber a, SeqNumber b) {
    return static_cast<std::int32_t>(a.raw_ - b.raw_) <= 0;
  }
  friend constexpr bool operator>=(SeqNumber a, SeqNumber b) { return b <= a; }

 private:
  std::uint32_t raw_ = 0;
};

}  // namespace rtether::tcp
