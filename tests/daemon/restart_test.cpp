// Restart reasons: the RECONNECTING detail each one is reported with, which
// ones back off, and the back-off schedule itself.
#include "daemon/restart.hpp"

#include <gtest/gtest.h>

namespace rtether::daemon {
namespace {

using namespace std::chrono_literals;

TEST(Restart, IsReportedAsOpenVpnNamesIt) {
  EXPECT_EQ(reconnecting_detail({RestartReason::Signal, mgmt::Signal::Hup, {}}), "SIGHUP");
  EXPECT_EQ(reconnecting_detail({RestartReason::Signal, mgmt::Signal::Usr1, {}}), "SIGUSR1");
  EXPECT_EQ(reconnecting_detail({RestartReason::ConnectFailed, std::nullopt, {}}),
            "connection-failed");
  EXPECT_EQ(reconnecting_detail({RestartReason::RelayGone, std::nullopt, 3s}), "connection-reset");
}

TEST(Restart, OnlyFailuresBackOff) {
  EXPECT_FALSE(backs_off(RestartReason::Signal));
  EXPECT_TRUE(backs_off(RestartReason::ConnectFailed));
  EXPECT_TRUE(backs_off(RestartReason::RelayGone));
}

TEST(RetryBackoff, StartsAtOnceThenOneSecondDoublingToFive) {
  RetryBackoff backoff;
  std::vector<long long> delays;
  for (int i = 0; i < 6; ++i) {
    delays.push_back(backoff.delay().count());
    backoff.advance();
  }
  EXPECT_EQ(delays, (std::vector<long long>{0, 1000, 2000, 4000, 5000, 5000}));
}

TEST(RetryBackoff, ASignalOrAHealthySessionStartsOver) {
  RetryBackoff backoff;
  backoff.advance();
  backoff.advance();
  backoff.on_restart({RestartReason::RelayGone, std::nullopt, 4999ms});
  EXPECT_EQ(backoff.delay(), 2s);
  backoff.on_restart({RestartReason::ConnectFailed, std::nullopt, {}});
  EXPECT_EQ(backoff.delay(), 2s);
  backoff.on_restart({RestartReason::RelayGone, std::nullopt, kHealthySession});
  EXPECT_EQ(backoff.delay(), 0s);
  backoff.advance();
  backoff.on_restart({RestartReason::Signal, mgmt::Signal::Usr1, {}});
  EXPECT_EQ(backoff.delay(), 0s);
}

TEST(RetryBackoff, AnInterruptionWithoutASignalKeepsTheSchedule) {
  RetryBackoff backoff;
  backoff.advance();
  backoff.on_restart({RestartReason::Signal, std::nullopt, {}});
  EXPECT_EQ(backoff.delay(), 1s);
}

}  // namespace
}  // namespace rtether::daemon
