#include "tiering.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy_parser.h"

namespace flywheel::routing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

intake::v1::Request Req(const std::string& title, const std::string& description = "") {
  intake::v1::Request r;
  r.mutable_spec()->set_title(title);
  r.mutable_spec()->set_description(description);
  return r;
}

class TieringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = ParsePolicy(DefaultPolicyYaml());
    ASSERT_TRUE(p.ok()) << p.status();
    policy_ = *std::move(p);
  }
  Policy policy_;
};

TEST_F(TieringTest, EachClaimCategoryGivesItsTierAndRule) {
  struct Case {
    std::string title;
    int tier;
    std::string rule;
  };
  for (const Case& c : std::vector<Case>{{"New pricing for teams", 2, "pricing-claims"},
                                         {"Our money-back guarantee", 2, "guarantee-claims"},
                                         {"Wellness tips for health at work", 3, "health-claims"},
                                         {"Low interest rate loan offer", 3, "finance-claims"}}) {
    TierDecision d = AssessTier(policy_, Req(c.title));
    EXPECT_EQ(d.tier, c.tier) << c.title;
    EXPECT_EQ(d.rule_id, c.rule) << c.title;
    EXPECT_THAT(d.explanation, HasSubstr("in the title")) << c.title;
  }
}

TEST_F(TieringTest, TierPicksTheApprovalSteps) {
  EXPECT_THAT(AssessTier(policy_, Req("Spring pricing")).approval_steps,
              ElementsAre("brand", "legal"));
  EXPECT_THAT(AssessTier(policy_, Req("A health claim")).approval_steps,
              ElementsAre("brand", "legal", "compliance"));
  EXPECT_EQ(AssessTier(policy_, Req("A health claim")).approval_policy_id,
            "tier3-brand-legal-compliance");
}

TEST_F(TieringTest, HighestMatchingTierWins) {
  // Pricing (2) and health (3) both match: the riskier one decides.
  TierDecision d = AssessTier(policy_, Req("Health plan pricing"));
  EXPECT_EQ(d.tier, 3);
  EXPECT_EQ(d.rule_id, "health-claims");
}

TEST_F(TieringTest, KeywordsInDescriptionAndFieldsCount) {
  EXPECT_EQ(AssessTier(policy_, Req("Post", "Comes with a warranty")).rule_id, "guarantee-claims");
  intake::v1::Request r = Req("Post");
  (*r.mutable_spec()->mutable_fields())["body"] = "Best investment returns";
  TierDecision d = AssessTier(policy_, r);
  EXPECT_EQ(d.rule_id, "finance-claims");
  EXPECT_THAT(d.explanation, HasSubstr("field body"));
}

TEST_F(TieringTest, NoMatchGivesTheDefault) {
  TierDecision d = AssessTier(policy_, Req("Team offsite photos"));
  EXPECT_EQ(d.tier, 1);
  EXPECT_EQ(d.rule_id, "");
  EXPECT_EQ(d.approval_policy_id, "tier1-single-reviewer");
  EXPECT_THAT(d.approval_steps, ElementsAre("reviewer"));
}

TEST_F(TieringTest, InternalRoutineContentNeedsNoApproval) {
  intake::v1::Request r = Req("Office news");
  (*r.mutable_spec()->mutable_fields())["content_category"] = "internal_update";
  TierDecision d = AssessTier(policy_, r);
  EXPECT_EQ(d.tier, 0);
  EXPECT_EQ(d.rule_id, "internal-updates");
  EXPECT_TRUE(d.approval_steps.empty());
  // The same category for an external audience does not match that rule.
  r.mutable_spec()->mutable_business_impact()->set_external_audience(true);
  EXPECT_EQ(AssessTier(policy_, r).tier, 1);
}

TEST_F(TieringTest, CategoryAndChannelRules) {
  intake::v1::Request r = Req("Quarterly update");
  (*r.mutable_spec()->mutable_fields())["content_category"] = "pharma";
  EXPECT_EQ(AssessTier(policy_, r).rule_id, "regulated-categories");
  intake::v1::Request ad = Req("Banner");
  ad.mutable_spec()->add_channels(common::v1::CHANNEL_DISPLAY);
  ad.mutable_spec()->mutable_business_impact()->set_external_audience(true);
  EXPECT_EQ(AssessTier(policy_, ad).rule_id, "paid-external");
  EXPECT_EQ(AssessTier(policy_, ad).tier, 2);
}

TEST(ContainsKeywordTest, WholeWordsCaseInsensitive) {
  EXPECT_TRUE(ContainsKeyword("New PRICING page", "pricing"));
  EXPECT_TRUE(ContainsKeyword("20% off today", "% off"));
  EXPECT_TRUE(ContainsKeyword("interest rate: low", "interest rate"));
  EXPECT_FALSE(ContainsKeyword("A priceless moment", "price"));
  EXPECT_FALSE(ContainsKeyword("healthy", "health"));
  EXPECT_FALSE(ContainsKeyword("anything", ""));
}

}  // namespace
}  // namespace flywheel::routing
