// The merges of facts.h: any order and any repetition of a request's events
// give the same series entries; nothing counts before the submission.
#include "facts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr int64_t kHour = 3'600'000;
const int64_t kT0 = 1'800'000'000'000;

google::protobuf::Timestamp At(int64_t ms) { return ToProtoTime(absl::FromUnixMillis(ms)); }

std::vector<std::function<void(stored::RequestFacts&)>> Events() {
  intake::v1::RequestSubmitted submitted;
  submitted.set_tenant_id("acme");
  submitted.set_request_id("r1");
  auto* request = submitted.mutable_request();
  request->set_tenant_id("acme");
  request->set_request_id("r1");
  request->mutable_spec()->set_request_type_id("blog_post");
  request->mutable_spec()->add_channels(common::v1::CHANNEL_WEB);
  *request->mutable_spec()->mutable_due_time() = At(kT0 + 100 * kHour);
  *request->mutable_create_time() = At(kT0);

  routing::v1::RequestRouted routed;
  routed.set_team_id("content");
  routed.mutable_workflow()->set_template_id("standard");
  auto* first = routed.mutable_workflow()->add_stages();
  first->set_stage_id("brief");
  first->set_stage(common::v1::STAGE_BRIEF);
  *first->mutable_enter_time() = At(kT0 + kHour);

  routing::v1::StageAdvanced to_launch;
  to_launch.set_from_stage_id("brief");
  to_launch.set_from_stage(common::v1::STAGE_BRIEF);
  *to_launch.mutable_from_stage_enter_time() = At(kT0 + kHour);
  to_launch.set_to_stage_id("launch");
  to_launch.set_to_stage(common::v1::STAGE_LAUNCH);
  *to_launch.mutable_transition_time() = At(kT0 + 5 * kHour);

  scheduler::v1::PublishDone done;
  *done.mutable_publish_time() = At(kT0 + 8 * kHour);
  approval::v1::ChangesRequested changes;
  changes.set_step_id("brand");
  changes.set_round(1);
  scheduler::v1::SlaWarning warning;
  warning.set_timer_id("r1/stage/brief");

  return {[=](auto& f) { MergeSubmitted(f, submitted); },
          [=](auto& f) { MergeRouted(f, routed); },
          [=](auto& f) { MergeStageAdvanced(f, to_launch); },
          [=](auto& f) { MergePublished(f, done, 0); },
          [=](auto& f) { MergeChangesRequested(f, changes, kT0 + 3 * kHour); },
          [=](auto& f) { MergeWarning(f, warning); }};
}

TEST(FactsTest, AnyOrderAndRepeatsGiveTheSameEntries) {
  auto events = Events();
  stored::RequestFacts in_order;
  for (auto& e : events) e(in_order);
  const std::vector<SeriesEntry> expected = Entries(in_order);
  ASSERT_FALSE(expected.empty());

  std::vector<size_t> order = {3, 5, 2, 2, 4, 1, 0, 3, 5, 0};
  stored::RequestFacts shuffled;
  for (size_t i : order) events[i](shuffled);
  EXPECT_THAT(Entries(shuffled), UnorderedElementsAreArray(expected));
}

TEST(FactsTest, NothingCountsBeforeTheSubmissionArrives) {
  auto events = Events();
  stored::RequestFacts facts;
  for (size_t i = 1; i < events.size(); ++i) events[i](facts);
  EXPECT_THAT(Entries(facts), IsEmpty());
  events[0](facts);
  EXPECT_EQ(DeliveredMs(facts), kT0 + 8 * kHour);
  // Delivered 8 h after submission, before the due time, one revision,
  // one warning, no breach.
  bool delivered = false;
  for (const SeriesEntry& e : Entries(facts)) {
    if (e.series != kDeliveredSeries) continue;
    delivered = true;
    std::vector<absl::string_view> f = Fields(e.member);
    ASSERT_EQ(f.size(), 11u);
    EXPECT_EQ(f[0], "content");
    EXPECT_EQ(f[1], "blog_post");
    EXPECT_EQ(f[6], std::to_string(8 * kHour));
    EXPECT_EQ(f[7], "1");
    EXPECT_EQ(f[8], "1");
    EXPECT_EQ(f[9], "1");
    EXPECT_EQ(f[10], "0");
  }
  EXPECT_TRUE(delivered);
}

TEST(FactsTest, EntriesRoundTripThroughTheirText) {
  SeriesEntry entry{.series = kVisitSeries,
                    .score = kT0,
                    .member =
                        "a\x1f"
                        "b"};
  EXPECT_EQ(DecodeEntry(EncodeEntry(entry)), entry);
}

}  // namespace
}  // namespace flywheel::reporting
