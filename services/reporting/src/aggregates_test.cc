// The report arithmetic of aggregates.h on members written by hand.
#include "aggregates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// Monday 2027-01-04 00:00 UTC.
const int64_t kMonday = 1'799'020'800'000;

int64_t Hours(const google::protobuf::Duration& d) {
  return absl::ToInt64Hours(FromProtoDuration(d));
}

common::v1::TimeRange Range(int64_t from, int64_t to) {
  common::v1::TimeRange r;
  *r.mutable_start_time() = ToProtoTime(absl::FromUnixMillis(from));
  *r.mutable_end_time() = ToProtoTime(absl::FromUnixMillis(to));
  return r;
}

TEST(AggregatesTest, PercentilesAreNearestRank) {
  std::vector<int64_t> durations;
  for (int h = 10; h >= 1; --h) durations.push_back(h * kHour);
  v1::DurationStats s = Stats(durations);
  EXPECT_EQ(s.count(), 10);
  EXPECT_EQ(Hours(s.p50()), 5);
  EXPECT_EQ(Hours(s.p90()), 9);
  EXPECT_EQ(absl::ToInt64Minutes(FromProtoDuration(s.mean())), 330);
}

TEST(AggregatesTest, AnInvertedRangeAndAnUnknownGroupByNameTheirField) {
  absl::Status inverted = CheckRange(Range(kMonday, kMonday - 1), "range");
  EXPECT_EQ(inverted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(inverted), ElementsAre(Field(&FieldViolation::field, "range")));
  auto unknown = OperationalGroupBy("colour", "group_by");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(FieldViolationsOf(unknown.status()),
              ElementsAre(Field(&FieldViolation::field, "group_by")));
  EXPECT_EQ(*OperationalGroupBy("team", "group_by"), kTeam);
}

TEST(AggregatesTest, WeeksStartOnMonday) {
  auto weeks = Buckets(kMonday + 2 * kDay, kMonday + 9 * kDay, v1::GRANULARITY_WEEK);
  ASSERT_EQ(weeks.size(), 2u);
  EXPECT_EQ(weeks[0].first, kMonday + 2 * kDay);
  EXPECT_EQ(weeks[0].second, kMonday + 7 * kDay);
  EXPECT_EQ(weeks[1].second, kMonday + 9 * kDay);
  EXPECT_EQ(WeekStart(kMonday + 6 * kDay + kHour), kMonday);
}

TEST(AggregatesTest, AttributionModelsCreditTheTouchesTheyName) {
  const std::string s(1, '\x1f');
  OutcomeRows rows;
  rows.touches = {{absl::StrCat("lead-1", s, "spring", s, "4", s, "google", s, "a1"), kMonday},
                  {absl::StrCat("lead-1", s, "webinar", s, "8", s, "", s, "a2"), kMonday + 1}};
  rows.lead_touches["lead-1"] = {{absl::StrCat("spring", s, "4", s, "google", s, "a1"), kMonday},
                                 {absl::StrCat("webinar", s, "8", s, "", s, "a2"), kMonday + 1}};
  rows.qualified = {{"lead-1", kMonday + 2}};
  auto mqls = [&](v1::AttributionModel model) {
    std::map<std::string, double> out;
    const v1::ListCampaignOutcomesResponse response = Outcomes(rows, "campaign", model, "EUR");
    for (const auto& o : response.outcomes()) {
      out[o.key()] = o.mqls();
    }
    return out;
  };
  EXPECT_EQ(mqls(v1::ATTRIBUTION_MODEL_FIRST_TOUCH)["spring"], 1.0);
  EXPECT_EQ(mqls(v1::ATTRIBUTION_MODEL_FIRST_TOUCH)["webinar"], 0.0);
  EXPECT_EQ(mqls(v1::ATTRIBUTION_MODEL_LAST_TOUCH)["webinar"], 1.0);
  EXPECT_EQ(mqls(v1::ATTRIBUTION_MODEL_LINEAR)["spring"], 0.5);
  EXPECT_EQ(mqls(v1::ATTRIBUTION_MODEL_LINEAR)["webinar"], 0.5);
}

}  // namespace
}  // namespace flywheel::reporting
