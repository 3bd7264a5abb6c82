// FdExhaustion: lowers the soft RLIMIT_NOFILE and uses up every fd under it,
// so the next accept4 fails with EMFILE; the destructor gives both back.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "io/socket.hpp"

namespace rtether::io::testing {

class FdExhaustion {
 public:
  FdExhaustion() {
    if (::getrlimit(RLIMIT_NOFILE, &original_) != 0) return;
    rlimit lowered = original_;
    lowered.rlim_cur = 256;
    lowered_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
    if (!lowered_) return;
    for (int i = 0; i < 256; ++i) {
      Fd copy{::dup(STDERR_FILENO)};
      if (!copy.valid()) break;
      filler_.push_back(std::move(copy));
    }
    exhausted_ = errno == EMFILE;
  }
  ~FdExhaustion() { release(); }
  FdExhaustion(const FdExhaustion&) = delete;
  FdExhaustion& operator=(const FdExhaustion&) = delete;

  // Every fd under the lowered limit is in use.
  bool exhausted() const { return exhausted_; }

  void release() {
    filler_.clear();
    if (lowered_) {
      EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &original_), 0);
    }
    lowered_ = false;
  }

 private:
  rlimit original_{};
  bool lowered_ = false;
  bool exhausted_ = false;
  std::vector<Fd> filler_;
};

}  // namespace rtether::io::testing
