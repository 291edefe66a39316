// SLA timers fired by a Claimer on the in-memory store, a recording publisher
// and a fake clock: the next batch is claimed while an earlier one waits for
// its publish acknowledgement, and a batch whose publish failed is not
// completed and fires again, under the same event ids, once its lease ends.
#include <gtest/gtest.h>

#include "claimer.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "in_memory_timer_store.h"
#include "parsed_policy.h"
#include "timers.h"

namespace flywheel::scheduler {
namespace {

using flywheel::testing::WaitFor;

// acme counts every hour.
constexpr char kPolicy[] =
    "tenants: {acme: {calendars: {always: {always_open: true}}, default_calendar: always}}";

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr absl::Duration kLease = absl::Seconds(30);

// A breach due at `due` with nothing after it: it fires once and is gone.
TimerArm Breach(const std::string& timer_id, absl::Time due) {
  TimerArm arm;
  arm.tenant_id = "acme";
  arm.timer_id = timer_id;
  arm.spec.request_id = "req_" + timer_id;
  arm.spec.kind = common::v1::TIMER_KIND_REMINDER;
  arm.spec.duration = absl::Hours(1);
  arm.spec.start_time = due - absl::Hours(1);
  arm.next = {.kind = PointKind::kBreach, .escalation_level = 0, .due = due};
  return arm;
}

class FiringTest : public ::testing::Test {
 protected:
  void Arm(const TimerArm& arm) {
    auto armed = async::BlockOn(io_.context(), store_.Arm(arm));
    ASSERT_TRUE(armed.ok()) << armed.status();
  }

  std::optional<absl::Time> NextDue() {
    auto next = async::BlockOn(io_.context(), timers_.NextDue());
    EXPECT_TRUE(next.ok()) << next.status();
    return next.ok() ? *next : std::nullopt;
  }

  std::vector<std::string> PublishedIds() const {
    std::vector<std::string> ids;
    for (const kafka::OutgoingEvent& event : publisher_.published()) ids.push_back(event.id);
    return ids;
  }

  async::IoThreads io_{1};
  FakeClock clock_{kNow};
  PolicyHolder policy_{testing::ParsedPolicy(kPolicy)};
  InMemoryTimerStore store_;
  kafka::testing::RecordingPublisher publisher_;
  metrics::Metrics metrics_;
  SchedulerMetrics scheduler_metrics_{metrics_};
  Timers timers_{policy_, store_, publisher_, "t.sla", scheduler_metrics_, clock_};
};

TEST_F(FiringTest, TheNextBatchIsClaimedAndPublishedWhileTheFirstWaitsForItsAck) {
  Arm(Breach("t1", kNow));
  Arm(Breach("t2", kNow));
  publisher_.HoldAcks();
  Claimer claimer(
      timers_, io_.context(), clock_,
      {.batch = 1, .lease = kLease, .max_idle = absl::Milliseconds(20), .in_flight = 4});
  claimer.Start();
  // One timer per batch: the second can only go out while the first's
  // acknowledgement is held if the claimer did not wait for it.
  EXPECT_TRUE(WaitFor([&] { return publisher_.size() == 2; }, absl::Seconds(10)))
      << publisher_.size() << " published while the first acknowledgement is held";
  EXPECT_EQ(store_.size(), 2u) << "nothing completes before its acknowledgement";
  publisher_.ReleaseAcks();
  EXPECT_TRUE(WaitFor([&] { return store_.size() == 0; }, absl::Seconds(10)))
      << "both breaches fired and their timers finished";
  claimer.Stop();
  EXPECT_EQ(publisher_.size(), 2u) << "each fired once";
}

TEST_F(FiringTest, ABatchWhosePublishFailedIsNotCompletedAndFiresAgainAfterItsLease) {
  Arm(Breach("t1", kNow));
  publisher_.FailWith(absl::UnavailableError("the broker is away"));
  Claimer claimer(timers_, io_.context(), clock_,
                  {.batch = 10, .lease = kLease, .max_idle = absl::Milliseconds(20)});
  claimer.Start();
  // Claimed, its publish failed, and it stays claimed: the next thing due is
  // its lease's end.
  EXPECT_TRUE(WaitFor([&] { return NextDue() == kNow + kLease; }, absl::Seconds(10)));
  EXPECT_EQ(store_.size(), 1u) << "not completed";
  EXPECT_EQ(publisher_.size(), 0u);

  publisher_.FailWith(absl::OkStatus());
  clock_.Advance(kLease);
  claimer.Wake();
  EXPECT_TRUE(WaitFor([&] { return store_.size() == 0; }, absl::Seconds(10)))
      << "fired again once its lease ended, then finished";
  claimer.Stop();
  const FirePoint breach = Breach("t1", kNow).next;
  EXPECT_EQ(PublishedIds(), std::vector<std::string>{FiredEventId("acme", "t1", breach)});
}

}  // namespace
}  // namespace flywheel::scheduler
