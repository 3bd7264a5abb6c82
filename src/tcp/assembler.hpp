// tcp::Assembler: device data that arrived after a hole, held until the hole
// is filled (RFC 9293 3.10.7.4: "segments with higher beginning sequence
// numbers may be held for later processing"). Positions are relative to the
// next byte the stream expects (ahead = SEG.SEQ - RCV.NXT), so the assembler
// knows no sequence numbers; inside, held segments are keyed by 64-bit
// stream offsets, whose order survives any number of sequence wraparounds.
//
// Segments are kept as they came, each with its own bytes (overlaps are
// resolved on the way out, not on the way in); what may be held is bounded
// by the window the caller passes and by kMaxSegments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "wire/bytes.hpp"

namespace rtether::tcp {

class Assembler {
 public:
  // With the window bound, this keeps a burst of tiny segments from costing
  // one allocation each for as long as the hole stays open.
  static constexpr std::size_t kMaxSegments = 512;

  // Holds `bytes` starting `ahead` bytes past the next expected byte, and
  // the FIN after them when `fin`. Only the part within `window` bytes of the
  // next expected byte is kept (a FIN beyond it is dropped too); nothing when
  // it starts beyond the window or kMaxSegments are held. A segment at the
  // offset of one already held replaces it only if it brings more.
  void hold(std::uint32_t ahead, wire::Bytes bytes, bool fin, std::uint32_t window);

  // The stream moved on by `bytes` delivered in order: what is now behind it
  // is let go.
  void advance(std::size_t bytes);

  struct Contiguous {
    wire::Bytes bytes;  // from the next expected byte on; empty when only the FIN is left
    bool fin = false;   // the FIN follows these bytes
  };
  // Held data that continues the stream now (one held segment's worth), or
  // nullopt while a hole remains. Valid until the next call that changes it.
  std::optional<Contiguous> contiguous() const;

  std::size_t held_bytes() const { return held_bytes_; }
  std::size_t held_segments() const { return held_.size(); }
  // Lets everything go (the stream ended or was reset).
  void clear();

 private:
  struct Held {
    std::vector<std::uint8_t> bytes;
    bool fin = false;
  };
  void drop_delivered();

  std::map<std::uint64_t, Held> held_;  // by stream offset of the first byte
  std::size_t held_bytes_ = 0;
  std::uint64_t next_ = 0;  // stream offset of the next expected byte
};

}  // namespace rtether::tcp
