// --threads: see threads_option.hpp.
#include "cli/threads_option.hpp"

#include <algorithm>
#include <thread>

namespace rtether::cli {

std::size_t default_relay_threads() {
  const std::size_t cores = std::thread::hardware_concurrency();  // 0: not known
  return std::clamp<std::size_t>(cores, 1, kMaxDefaultThreads);
}

void add_threads_option(CLI::App* command, std::size_t& threads) {
  threads = default_relay_threads();
  command
      ->add_option("--threads", threads,
                   "Event loops (threads) the relay spreads its devices' sessions over, one "
                   "session each (default: the number of cores, at most " +
                       std::to_string(kMaxDefaultThreads) + "; 1 = a single loop)")
      ->default_val(threads)
      ->check(CLI::Range(std::size_t{1}, kMaxThreads));
}

}  // namespace rtether::cli
