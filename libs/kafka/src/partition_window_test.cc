#include "partition_window.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace flywheel::kafka {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Window = PartitionWindow<std::string>;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

WindowLimits Limits(size_t max_in_flight, size_t max_batch) {
  return {.max_in_flight = max_in_flight,
          .max_batch = max_batch,
          .retry_initial = absl::Milliseconds(100),
          .retry_max = absl::Milliseconds(400)};
}

std::vector<int64_t> Offsets(const std::vector<Window::Entry>& batch) {
  std::vector<int64_t> offsets;
  for (const auto& e : batch) offsets.push_back(e.offset);
  return offsets;
}

// Gives the whole batch back with one outcome per event, in order.
Window::Settled Give(Window& window, std::vector<Window::Entry> batch,
                     const std::vector<EventOutcome>& outcomes, absl::Time now = kStart) {
  std::vector<Window::Returned> returned;
  for (size_t i = 0; i < batch.size(); ++i) {
    returned.push_back({batch[i].offset, outcomes.at(i), std::move(batch[i].item)});
  }
  return window.Settle(std::move(returned), now);
}

void AddRange(Window& window, int64_t from, int64_t to) {
  for (int64_t o = from; o < to; ++o) window.Add(o, "e" + std::to_string(o));
}

constexpr EventOutcome kDone = EventOutcome::kDone;
constexpr EventOutcome kRetry = EventOutcome::kRetry;
constexpr EventOutcome kNotAttempted = EventOutcome::kNotAttempted;

TEST(PartitionWindowTest, BatchesComeInOffsetOrderOneAtATime) {
  Window window(Limits(100, 3));
  AddRange(window, 10, 15);
  auto first = window.Take(kStart);
  EXPECT_THAT(Offsets(first), ElementsAre(10, 11, 12));
  EXPECT_EQ(first[0].item, "e10");
  // The next batch waits for the one in hand, so order holds across batches.
  EXPECT_FALSE(window.Ready(kStart));
  EXPECT_THAT(window.Take(kStart), IsEmpty());
  auto settled = Give(window, std::move(first), {kDone, kDone, kDone});
  EXPECT_EQ(settled.store, 13);
  EXPECT_THAT(Offsets(window.Take(kStart)), ElementsAre(13, 14));
}

TEST(PartitionWindowTest, StoredOffsetNeverPassesAnEventThatIsNotDone) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 5);
  auto settled = Give(window, window.Take(kStart), {kDone, kRetry, kDone, kDone, kDone});
  // 2, 3 and 4 are done, but 1 is not: the offset stops at 1.
  EXPECT_EQ(settled.store, 1);
  EXPECT_EQ(window.watermark(), 1);
  // Only 1 comes again; once it is done, the offset jumps past 4.
  auto retry = window.Take(kStart + absl::Milliseconds(100));
  EXPECT_THAT(Offsets(retry), ElementsAre(1));
  EXPECT_EQ(retry[0].item, "e1");
  settled = Give(window, std::move(retry), {kDone});
  EXPECT_EQ(settled.store, 5);
  EXPECT_EQ(window.size(), 0u);
}

TEST(PartitionWindowTest, OffsetIsStoredOnlyWhenItMoves) {
  Window window(Limits(100, 1));
  AddRange(window, 0, 3);
  EXPECT_EQ(Give(window, window.Take(kStart), {kDone}).store, 1);
  auto stuck = Give(window, window.Take(kStart), {kRetry});
  EXPECT_FALSE(stuck.store.has_value());
}

TEST(PartitionWindowTest, RetriesBackOffAndComeBeforeNewerEvents) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 3);
  Give(window, window.Take(kStart), {kDone, kRetry, kRetry});
  AddRange(window, 3, 5);
  EXPECT_FALSE(window.Ready(kStart + absl::Milliseconds(99)));
  EXPECT_EQ(window.ready_at(), kStart + absl::Milliseconds(100));
  auto again = window.Take(kStart + absl::Milliseconds(100));
  EXPECT_THAT(Offsets(again), ElementsAre(1, 2, 3, 4));
}

TEST(PartitionWindowTest, BackoffDoublesUpToItsLimitAndResetsAfterACleanBatch) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 1);
  absl::Time now = kStart;
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 4; ++i) {
    Give(window, window.Take(now), {kRetry}, now);
    waits.push_back(window.ready_at() - now);
    now = window.ready_at();
  }
  EXPECT_THAT(waits, ElementsAre(absl::Milliseconds(100), absl::Milliseconds(200),
                                 absl::Milliseconds(400), absl::Milliseconds(400)));
  Give(window, window.Take(now), {kDone}, now);
  AddRange(window, 1, 2);
  EXPECT_TRUE(window.Ready(now));
  Give(window, window.Take(now), {kRetry}, now);
  EXPECT_EQ(window.ready_at() - now, absl::Milliseconds(100));
}

TEST(PartitionWindowTest, EventsNotAttemptedComeBackAtOnceInOrder) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 4);
  auto settled = Give(window, window.Take(kStart), {kDone, kNotAttempted, kNotAttempted, kDone});
  EXPECT_EQ(settled.store, 1);
  EXPECT_TRUE(window.Ready(kStart));  // no backoff
  EXPECT_THAT(Offsets(window.Take(kStart)), ElementsAre(1, 2));
}

TEST(PartitionWindowTest, FullWindowAsksForAPauseOnceAndResumesAtHalf) {
  Window window(Limits(4, 10));
  EXPECT_FALSE(window.Add(0, "e0"));
  EXPECT_FALSE(window.Add(1, "e1"));
  EXPECT_FALSE(window.Add(2, "e2"));
  EXPECT_TRUE(window.Add(3, "e3"));  // full: pause
  EXPECT_TRUE(window.paused());
  // An event the fetcher had already handed over is still taken.
  EXPECT_FALSE(window.Add(4, "e4"));
  EXPECT_EQ(window.size(), 5u);

  auto batch = window.Take(kStart);
  ASSERT_EQ(batch.size(), 5u);
  // Done above a stuck event still fills the window: a crash would replay it.
  auto settled = Give(window, std::move(batch), {kRetry, kDone, kDone, kDone, kDone});
  EXPECT_FALSE(settled.resume);
  EXPECT_EQ(window.size(), 5u);
  settled = Give(window, window.Take(kStart + absl::Seconds(1)), {kDone});
  EXPECT_TRUE(settled.resume);
  EXPECT_FALSE(window.paused());
  EXPECT_EQ(settled.store, 5);
}

TEST(PartitionWindowTest, ResumesOnlyWhenHalfTheWindowIsFree) {
  Window window(Limits(4, 1));
  AddRange(window, 0, 4);
  ASSERT_TRUE(window.paused());
  EXPECT_FALSE(Give(window, window.Take(kStart), {kDone}).resume);  // 3 left
  EXPECT_TRUE(Give(window, window.Take(kStart), {kDone}).resume);   // 2 left
}

TEST(PartitionWindowTest, DuplicateOffsetsAreIgnored) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 3);
  EXPECT_FALSE(window.Add(1, "again"));
  EXPECT_THAT(Offsets(window.Take(kStart)), ElementsAre(0, 1, 2));
}

TEST(PartitionWindowTest, GapsInOffsetsAreStoredPast) {
  // Compacted topics and transaction markers leave holes in the offsets.
  Window window(Limits(100, 10));
  window.Add(3, "e3");
  window.Add(7, "e7");
  auto settled = Give(window, window.Take(kStart), {kDone, kRetry});
  EXPECT_EQ(settled.store, 7);
  settled = Give(window, window.Take(kStart + absl::Seconds(1)), {kDone});
  EXPECT_EQ(settled.store, 8);
}

TEST(PartitionWindowTest, AnEventLeftOutOfTheReturnStaysInHandAndHoldsTheOffset) {
  Window window(Limits(100, 10));
  AddRange(window, 0, 3);
  auto batch = window.Take(kStart);
  std::vector<Window::Returned> returned;
  returned.push_back({0, kDone, ""});
  returned.push_back({2, kDone, ""});
  EXPECT_EQ(window.Settle(std::move(returned), kStart).store, 1);
  EXPECT_FALSE(window.Ready(kStart));
  EXPECT_EQ(window.watermark(), 1);
}

TEST(PartitionWindowTest, NoWatermarkBeforeTheFirstEvent) {
  Window window(Limits(100, 10));
  EXPECT_FALSE(window.watermark().has_value());
  EXPECT_FALSE(window.Ready(kStart));
  EXPECT_THAT(window.Take(kStart), IsEmpty());
}

}  // namespace
}  // namespace flywheel::kafka
