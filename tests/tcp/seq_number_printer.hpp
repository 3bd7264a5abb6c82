// Prints a tcp::SeqNumber in GoogleTest failure messages as its number
// (found by argument-dependent lookup), not as a byte dump.
#pragma once

#include <ostream>

#include "tcp/seq_number.hpp"

namespace rtether::tcp {

inline void PrintTo(SeqNumber seq, std::ostream* os) { *os << seq.raw(); }

}  // namespace rtether::tcp
