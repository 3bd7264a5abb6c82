// prepare_process on Linux; see process_setup.hpp.
#include "io/process_setup.hpp"

#include <csignal>

namespace rtether::io {

void prepare_process() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace rtether::io
