#include "flywheel/runtime/periodic.h"

#include <gtest/gtest.h>

#include <atomic>

#include "flywheel/core/testing/wait_for.h"

namespace flywheel::runtime {
namespace {

using ::flywheel::testing::WaitFor;

TEST(PeriodicTest, RunsTheTaskAgainAndAgainUntilStopped) {
  std::atomic<int> runs{0};
  auto periodic = Periodic::Start("count", absl::Milliseconds(5), [&] { ++runs; });
  ASSERT_TRUE(WaitFor([&] { return runs.load() >= 3; }));
  periodic->Stop();
  const int after_stop = runs.load();
  periodic->Stop();  // idempotent
  EXPECT_EQ(runs.load(), after_stop);
}

TEST(PeriodicTest, StopDoesNotWaitOutALongInterval) {
  std::atomic<int> runs{0};
  auto periodic = Periodic::Start("slow", absl::Hours(1), [&] { ++runs; });
  // Would block for an hour if Stop waited for the interval to pass.
  periodic->Stop();
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace flywheel::runtime
