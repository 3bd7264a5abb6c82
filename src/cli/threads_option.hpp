// --threads N (relay, run, autorun): how many event loops the relay runs its
// sessions on (relay/relay.hpp, Threads). The default is the number of cores,
// capped: past a few loops a relay of a few devices has nothing to spread.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>

namespace rtether::cli {

inline constexpr std::size_t kMaxDefaultThreads = 8;
inline constexpr std::size_t kMaxThreads = 64;

// The cores this process may run on (at least 1), capped at kMaxDefaultThreads.
std::size_t default_relay_threads();
// Adds --threads to `command`, set to the default until given.
void add_threads_option(CLI::App* command, std::size_t& threads);

}  // namespace rtether::cli
