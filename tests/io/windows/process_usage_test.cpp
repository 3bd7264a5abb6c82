// process_usage on Windows: the handle count is never reported as 0 (a
// live process holds handles; Wine 8's GetProcessHandleCount is a stub
// saying 0, and then no count is reported at all).
#include "io/process_usage.hpp"

#include <gtest/gtest.h>

namespace rtether::io {
namespace {

TEST(ProcessUsage, HandleCountIsNeverZero) {
  auto usage = process_usage();
  EXPECT_NE(usage.open_fds, std::optional<std::uint64_t>(0));
}

}  // namespace
}  // namespace rtether::io
