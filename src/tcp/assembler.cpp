// tcp::Assembler: holding out-of-order segments and handing them back in
// order (see assembler.hpp).
#include "tcp/assembler.hpp"

namespace rtether::tcp {

void Assembler::hold(std::uint32_t ahead, wire::Bytes bytes, bool fin, std::uint32_t window) {
  if (ahead >= window || held_.size() >= kMaxSegments) return;
  if (bytes.size() > window - ahead) {
    bytes = bytes.first(window - ahead);
    fin = false;
  }
  auto [held, inserted] = held_.try_emplace(next_ + ahead);
  if (!inserted) {
    // A duplicate that adds nothing (no more bytes, no FIN we lack) is ignored.
    if (held->second.bytes.size() >= bytes.size() && (held->second.fin || !fin)) return;
    held_bytes_ -= held->second.bytes.size();
  }
  held->second.bytes.assign(bytes.begin(), bytes.end());
  held->second.fin = fin;
  held_bytes_ += bytes.size();
}

void Assembler::advance(std::size_t bytes) {
  next_ += bytes;
  drop_delivered();
}

void Assembler::drop_delivered() {
  while (!held_.empty()) {
    auto first = held_.begin();
    const std::uint64_t end = first->first + first->second.bytes.size();
    // Keep a segment whose bytes (or FIN) still lie ahead.
    if (end > next_ || (end == next_ && first->second.fin)) return;
    held_bytes_ -= first->second.bytes.size();
    held_.erase(first);
  }
}

std::optional<Assembler::Contiguous> Assembler::contiguous() const {
  if (held_.empty()) return std::nullopt;
  auto first = held_.begin();
  if (first->first > next_) return std::nullopt;  // still a hole
  const auto skip = static_cast<std::size_t>(next_ - first->first);
  return Contiguous{wire::Bytes{first->second.bytes}.subspan(skip), first->second.fin};
}

void Assembler::clear() {
  held_.clear();
  held_bytes_ = 0;
}

}  // namespace rtether::tcp
