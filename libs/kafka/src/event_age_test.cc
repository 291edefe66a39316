#include "event_age.h"

#include <gtest/gtest.h>

namespace flywheel::kafka {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TEST(AgeOfEventTest, PastEventAgesFromItsCeTime) {
  EventAge result = AgeOfEvent(kNow, kNow - absl::Milliseconds(250), kNow - absl::Seconds(9));
  EXPECT_EQ(result.age, absl::Milliseconds(250));
  EXPECT_FALSE(result.skew.has_value());
}

TEST(AgeOfEventTest, NoCeTimeGivesNoAge) {
  EventAge result = AgeOfEvent(kNow, std::nullopt, kNow - absl::Seconds(1));
  EXPECT_FALSE(result.age.has_value());
  EXPECT_FALSE(result.skew.has_value());
}

TEST(AgeOfEventTest, SlightlyAheadWithinToleranceCountsAsZero) {
  EventAge result = AgeOfEvent(kNow, kNow + absl::Milliseconds(400), std::nullopt);
  EXPECT_EQ(result.age, absl::ZeroDuration());
  EXPECT_FALSE(result.skew.has_value());
  EXPECT_EQ(AgeOfEvent(kNow, kNow + kClockSkewTolerance, std::nullopt).age, absl::ZeroDuration());
}

TEST(AgeOfEventTest, FarAheadIsSkewAndAgesFromTheRecordTimestamp) {
  // The incident: stamped a day ahead, produced 300 ms ago.
  EventAge result = AgeOfEvent(kNow, kNow + absl::Hours(24), kNow - absl::Milliseconds(300));
  EXPECT_EQ(result.skew, absl::Hours(24));
  EXPECT_EQ(result.age, absl::Milliseconds(300));
}

TEST(AgeOfEventTest, FarAheadWithARecordTimestampJustAheadAgesZero) {
  EventAge result = AgeOfEvent(kNow, kNow + absl::Hours(24), kNow + absl::Milliseconds(500));
  EXPECT_EQ(result.skew, absl::Hours(24));
  EXPECT_EQ(result.age, absl::ZeroDuration());
}

TEST(AgeOfEventTest, FarAheadWithNoTrustworthyRecordTimestampGivesNoAge) {
  EventAge ahead = AgeOfEvent(kNow, kNow + absl::Hours(24), kNow + absl::Hours(24));
  EXPECT_EQ(ahead.skew, absl::Hours(24));
  EXPECT_FALSE(ahead.age.has_value());
  EventAge none = AgeOfEvent(kNow, kNow + absl::Seconds(2), std::nullopt);
  EXPECT_EQ(none.skew, absl::Seconds(2));
  EXPECT_FALSE(none.age.has_value());
}

}  // namespace
}  // namespace flywheel::kafka
