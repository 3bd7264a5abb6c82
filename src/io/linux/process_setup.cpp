// prepare_process on Linux; see process_setup.hpp.
#include "io/process_setup.hpp"

#include <pthread.h>

#include <csignal>

namespace rtether::io {

void prepare_process() { std::signal(SIGPIPE, SIG_IGN); }

void prepare_worker_thread() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

}  // namespace rtether::io
