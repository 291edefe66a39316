#include "claimer.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "flywheel/core/clock.h"

namespace flywheel::scheduler {
namespace {

// Due points as a list of due times; ClaimDue takes those at or before now
// (firing them needs nothing more).
class ListedPoints final : public DueSource {
 public:
  ListedPoints(const Clock& clock, std::vector<absl::Time> due) : clock_(clock), due_(due) {}

  asio::awaitable<absl::StatusOr<ClaimedBatch>> ClaimDue(size_t max, absl::Duration) override {
    std::lock_guard lock(mu_);
    ClaimedBatch batch;
    while (batch.claimed < max && !due_.empty() && due_.front() <= clock_.Now()) {
      due_.erase(due_.begin());
      ++batch.claimed;
    }
    co_return std::move(batch);
  }

  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override {
    std::lock_guard lock(mu_);
    if (due_.empty()) co_return std::nullopt;
    co_return due_.front();
  }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::vector<absl::Time> due_;
};

// What the claimer reported, and a way to wait for a report.
struct Reports {
  std::mutex mu;
  std::vector<absl::Duration> overdue;
  absl::Notification first_zero;

  void Add(absl::Duration d) {
    std::lock_guard lock(mu);
    overdue.push_back(d);
    if (d == absl::ZeroDuration() && !first_zero.HasBeenNotified()) first_zero.Notify();
  }
};

// Runs a claimer over `points` until it reports nothing overdue.
void RunUntilNothingIsOverdue(DueSource& points, const Clock& clock, ClaimerOptions options,
                              Reports& reports) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&io] { io.run(); });
  {
    Claimer claimer(points, io, clock, options, [&reports](absl::Duration d) { reports.Add(d); });
    claimer.Start();
    EXPECT_TRUE(reports.first_zero.WaitForNotificationWithTimeout(absl::Seconds(10)));
    claimer.Stop();
  }
  work.reset();
  runner.join();
}

TEST(ClaimerTest, ReportsHowFarBehindItIsUntilTheBacklogIsFired) {
  FakeClock clock;
  const absl::Time now = clock.Now();
  // Five points due 30 s ago and later, fired two at a time: the claimer
  // starts 30 s behind and ends with nothing overdue.
  ListedPoints points(clock, {now - absl::Seconds(30), now - absl::Seconds(20),
                              now - absl::Seconds(10), now - absl::Seconds(5), now});
  Reports reports;
  RunUntilNothingIsOverdue(points, clock, {.batch = 2, .max_idle = absl::Milliseconds(50)},
                           reports);
  std::lock_guard lock(reports.mu);
  ASSERT_GE(reports.overdue.size(), 2u);
  // The first report, made while a full batch was fired, says the oldest
  // point left (due 10 s ago) is 10 s overdue.
  EXPECT_EQ(reports.overdue.front(), absl::Seconds(10));
  EXPECT_EQ(reports.overdue.back(), absl::ZeroDuration());
}

TEST(ClaimerTest, ReportsNothingOverdueWhenTheNextPointIsAhead) {
  FakeClock clock;
  ListedPoints points(clock, {clock.Now() + absl::Hours(1)});
  Reports reports;
  RunUntilNothingIsOverdue(points, clock, {.max_idle = absl::Milliseconds(50)}, reports);
  std::lock_guard lock(reports.mu);
  for (absl::Duration d : reports.overdue) EXPECT_EQ(d, absl::ZeroDuration());
}

}  // namespace
}  // namespace flywheel::scheduler
