// process_usage on Linux: open descriptors are the entries of /proc/self/fd.
#include "io/process_usage.hpp"

#include <gtest/gtest.h>

#include <array>

#include "io/socket.hpp"

namespace rtether::io {
namespace {

TEST(ProcessUsage, OpenDescriptorsCountSockets) {
  auto before = process_usage().open_fds;
  ASSERT_TRUE(before.has_value());
  EXPECT_GT(*before, 0u);
  wire::IpAddress loopback;
  ASSERT_TRUE(wire::IpAddress::parse("127.0.0.1", loopback));
  std::array<Fd, 8> listeners;
  for (auto& listener : listeners) listener = listen_tcp(Endpoint{loopback, 0});
  auto during = process_usage().open_fds;
  ASSERT_TRUE(during.has_value());
  EXPECT_GE(*during, *before + listeners.size());
  for (auto& listener : listeners) listener.reset();
  EXPECT_LT(*process_usage().open_fds, *during);
}

}  // namespace
}  // namespace rtether::io
