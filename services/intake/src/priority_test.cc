#include "priority.h"

#include <gtest/gtest.h>

#include "policy_parser.h"

namespace flywheel::intake {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class AssessPriorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = ParsePolicy(DefaultPolicyYaml());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    policy_ = *std::move(parsed);
  }

  PriorityAssessment Assess(std::optional<absl::Duration> due_in, v1::ImpactLevel impact,
                            const std::string& team = "") {
    v1::RequestSpec spec;
    if (due_in) spec.mutable_due_time()->set_seconds(absl::ToUnixSeconds(kNow + *due_in));
    spec.mutable_business_impact()->set_level(impact);
    spec.mutable_requester()->set_team(team);
    return AssessPriority(policy_.priority, spec, kNow);
  }

  Policy policy_;
};

TEST_F(AssessPriorityTest, CriticalImpactIsP1WhateverTheDate) {
  auto p = Assess(absl::Hours(24 * 60), v1::IMPACT_LEVEL_CRITICAL);
  EXPECT_EQ(p.priority, common::v1::PRIORITY_P1);
  EXPECT_EQ(p.reason, "critical business impact");
  EXPECT_EQ(p.rule_id, "critical_impact");
}

TEST_F(AssessPriorityTest, UndefinedImpactLevelCountsAsNotStated) {
  // 99 is above CRITICAL as a number; it must not rank as critical impact.
  auto p = Assess(absl::Hours(24 * 60), static_cast<v1::ImpactLevel>(99));
  auto unstated = Assess(absl::Hours(24 * 60), v1::IMPACT_LEVEL_UNSPECIFIED);
  EXPECT_EQ(p.priority, common::v1::PRIORITY_P3);
  EXPECT_EQ(p.reason, unstated.reason);
  EXPECT_EQ(p.rule_id, unstated.rule_id);
  EXPECT_EQ(Assess(absl::Hours(24 * 60), static_cast<v1::ImpactLevel>(-1)).priority,
            common::v1::PRIORITY_P3);
}

TEST_F(AssessPriorityTest, DueDateProximityRaisesPriority) {
  EXPECT_EQ(Assess(absl::Hours(24), v1::IMPACT_LEVEL_MEDIUM).priority, common::v1::PRIORITY_P2);
  EXPECT_EQ(Assess(absl::Hours(24), v1::IMPACT_LEVEL_HIGH).priority, common::v1::PRIORITY_P1);
  auto week = Assess(absl::Hours(24 * 5), v1::IMPACT_LEVEL_MEDIUM);
  EXPECT_EQ(week.priority, common::v1::PRIORITY_P2);
  EXPECT_EQ(week.reason, "due within 7 days");
  // The threshold is inclusive: exactly 48 hours away is "within 48 hours".
  EXPECT_EQ(Assess(absl::Hours(48), v1::IMPACT_LEVEL_MEDIUM).reason, "due within 48 hours");
  EXPECT_EQ(Assess(absl::Hours(48) + absl::Seconds(1), v1::IMPACT_LEVEL_MEDIUM).reason,
            "due within 7 days");
}

TEST_F(AssessPriorityTest, RequesterTierComesFromTheTeam) {
  auto exec = Assess(absl::Hours(24 * 5), v1::IMPACT_LEVEL_MEDIUM, "executive_office");
  EXPECT_EQ(exec.priority, common::v1::PRIORITY_P1);
  EXPECT_EQ(exec.reason, "executive requester and due within 7 days");
  EXPECT_EQ(Assess(std::nullopt, v1::IMPACT_LEVEL_MEDIUM, "executive_office").priority,
            common::v1::PRIORITY_P2);
  EXPECT_EQ(Assess(std::nullopt, v1::IMPACT_LEVEL_MEDIUM, "field_marketing").priority,
            common::v1::PRIORITY_P3);
}

TEST_F(AssessPriorityTest, DistantOrUndatedWorkIsRankedByImpact) {
  EXPECT_EQ(Assess(absl::Hours(24 * 30), v1::IMPACT_LEVEL_MEDIUM).priority,
            common::v1::PRIORITY_P3);
  EXPECT_EQ(Assess(std::nullopt, v1::IMPACT_LEVEL_HIGH).priority, common::v1::PRIORITY_P2);
  auto low = Assess(std::nullopt, v1::IMPACT_LEVEL_LOW);
  EXPECT_EQ(low.priority, common::v1::PRIORITY_P4);
  EXPECT_EQ(low.reason, "low business impact");
  // An unstated impact is not "at most low".
  auto unstated = Assess(std::nullopt, v1::IMPACT_LEVEL_UNSPECIFIED);
  EXPECT_EQ(unstated.priority, common::v1::PRIORITY_P3);
  EXPECT_EQ(unstated.reason, "planned work with no near due date");
  EXPECT_EQ(unstated.rule_id, "");
}

TEST_F(AssessPriorityTest, SlaClassIsTheTypesUnlessThePriorityNeedsFaster) {
  const RequestTypePolicy& launch = *policy_.FindType("campaign_launch");  // extended
  EXPECT_EQ(SlaClassFor(policy_, launch, common::v1::PRIORITY_P3), common::v1::SLA_CLASS_EXTENDED);
  EXPECT_EQ(SlaClassFor(policy_, launch, common::v1::PRIORITY_P2), common::v1::SLA_CLASS_STANDARD);
  EXPECT_EQ(SlaClassFor(policy_, launch, common::v1::PRIORITY_P1), common::v1::SLA_CLASS_EXPEDITED);
  const RequestTypePolicy& social = *policy_.FindType("social_post");  // expedited
  EXPECT_EQ(SlaClassFor(policy_, social, common::v1::PRIORITY_P2), common::v1::SLA_CLASS_EXPEDITED);
}

}  // namespace
}  // namespace flywheel::intake
