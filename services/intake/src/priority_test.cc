#include "priority.h"

#include <gtest/gtest.h>

namespace flywheel::intake {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::RequestSpec Spec(std::optional<absl::Duration> due_in, v1::ImpactLevel impact) {
  v1::RequestSpec spec;
  if (due_in) spec.mutable_due_time()->set_seconds(absl::ToUnixSeconds(kNow + *due_in));
  spec.mutable_business_impact()->set_level(impact);
  return spec;
}

TEST(AssessPriorityTest, CriticalImpactIsP1WhateverTheDate) {
  auto p = AssessPriority(Spec(absl::Hours(24 * 60), v1::IMPACT_LEVEL_CRITICAL), kNow);
  EXPECT_EQ(p.priority, common::v1::PRIORITY_P1);
  EXPECT_EQ(p.reason, "critical business impact");
}

TEST(AssessPriorityTest, NearDueDateRaisesPriority) {
  EXPECT_EQ(AssessPriority(Spec(absl::Hours(24), v1::IMPACT_LEVEL_MEDIUM), kNow).priority,
            common::v1::PRIORITY_P2);
  EXPECT_EQ(AssessPriority(Spec(absl::Hours(24), v1::IMPACT_LEVEL_HIGH), kNow).priority,
            common::v1::PRIORITY_P1);
  auto week = AssessPriority(Spec(absl::Hours(24 * 5), v1::IMPACT_LEVEL_MEDIUM), kNow);
  EXPECT_EQ(week.priority, common::v1::PRIORITY_P2);
  EXPECT_EQ(week.reason, "due within 7 days");
}

TEST(AssessPriorityTest, DistantOrUndatedWorkIsRankedByImpact) {
  EXPECT_EQ(AssessPriority(Spec(absl::Hours(24 * 30), v1::IMPACT_LEVEL_MEDIUM), kNow).priority,
            common::v1::PRIORITY_P3);
  EXPECT_EQ(AssessPriority(Spec(std::nullopt, v1::IMPACT_LEVEL_HIGH), kNow).priority,
            common::v1::PRIORITY_P2);
  EXPECT_EQ(AssessPriority(Spec(std::nullopt, v1::IMPACT_LEVEL_LOW), kNow).priority,
            common::v1::PRIORITY_P4);
}

}  // namespace
}  // namespace flywheel::intake
