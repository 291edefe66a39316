#include "flywheel/core/clock.h"

#include <gtest/gtest.h>

namespace flywheel {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Minutes(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(400));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(SystemClockTest, IsCloseToTheOperatingSystemsTime) {
  const absl::Time before = absl::Now();
  const absl::Time seen = SystemClock::Instance().Now();
  EXPECT_GE(seen, before);
  EXPECT_LT(seen - before, absl::Seconds(5));
}

}  // namespace
}  // namespace flywheel
