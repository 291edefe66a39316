#include "policy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "flywheel/config/testing/policy_edit.h"

namespace flywheel::lead_scoring {
namespace {

using ::flywheel::config::testing::ReplaceOnce;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMinimal[] = R"yaml(
activity_types: [page_viewed, form_submitted, unsubscribed]
tenants:
  acme:
    model:
      id: m1
      version: 2
      half_life: 7d
      mql: 50
      sql_ready: 80
      requalify_cooldown: 30d
      grades: {a: 30, b: 20, c: 10}
      account_aggregate: max
      groups:
        web: {}
        all: {includes: [web]}
      engagement:
        - {id: pricing, activity: page_viewed, url: "*/pricing*", points: 10,
           cap: {count: 2, per: 1d}, group: web}
        - {id: unsub, activity: unsubscribed, points: -40, decays: false}
      fit:
        - {id: vp, seniority: [vp, c_level], points: 20}
        - {id: mid, company_size: {min: 100, max: 1000}, points: 5}
)yaml";

std::string ErrorOf(const std::string& yaml) {
  return config::testing::InvalidPolicyMessage(ParsePolicy(yaml));
}

TEST(PolicyParserTest, MinimalPolicyParses) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const Model* model = policy->ModelFor("acme");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->id, "m1");
  EXPECT_EQ(model->version, 2);
  EXPECT_EQ(model->half_life, absl::Hours(24 * 7));
  EXPECT_EQ(model->mql, 50);
  EXPECT_EQ(model->sql_ready, 80);
  EXPECT_EQ(model->account_aggregate, v1::ACCOUNT_AGGREGATE_MAX);
  ASSERT_EQ(model->engagement.size(), 2u);
  const EngagementRule& pricing = model->engagement[0];
  EXPECT_EQ(pricing.url, "*/pricing*");
  ASSERT_TRUE(pricing.cap.has_value());
  EXPECT_EQ(pricing.cap->count, 2);
  EXPECT_EQ(pricing.cap->per, absl::Hours(24));
  EXPECT_TRUE(pricing.decays);
  EXPECT_FALSE(model->engagement[1].decays);
  EXPECT_EQ(model->engagement[1].points, -40);
  ASSERT_EQ(model->fit.size(), 2u);
  EXPECT_THAT(model->fit[0].seniority, ElementsAre("vp", "c_level"));
  EXPECT_EQ(model->fit[1].company_size_min, 100);
  EXPECT_THAT(model->RulesOfGroup("all"), ElementsAre("pricing"));
  EXPECT_EQ(model->BandOf(49), v1::SCORE_BAND_COLD);
  EXPECT_EQ(model->BandOf(50), v1::SCORE_BAND_MQL);
  EXPECT_EQ(model->BandOf(80), v1::SCORE_BAND_SQL_READY);
  EXPECT_EQ(model->GradeOf(30), v1::FIT_GRADE_A);
  EXPECT_EQ(model->GradeOf(9), v1::FIT_GRADE_D);
  EXPECT_EQ(policy->ModelFor("globex"), nullptr);
}

TEST(PolicyParserTest, ShippedDefaultParsesAndIsCompiledIn) {
  std::ifstream in(FLYWHEEL_LEAD_SCORING_DEFAULT_POLICY_PATH);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultPolicyYaml());
  auto policy = ParsePolicy(text.str());
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_NE(policy->ModelFor("acme"), nullptr);
  EXPECT_NE(policy->ModelFor("demo"), nullptr);
  ASSERT_TRUE(LoadPolicyFile(FLYWHEEL_LEAD_SCORING_DEFAULT_POLICY_PATH).ok());
}

TEST(PolicyParserTest, UnknownFieldIsRefusedWithItsLineAndASuggestion) {
  const std::string error = ErrorOf(ReplaceOnce(kMinimal, "decays: false", "decay: false"));
  EXPECT_THAT(error, HasSubstr("<inline>:20: tenants.acme.model.engagement[1].decay: unknown key; "
                               "did you mean 'decays'?"));
}

TEST(PolicyParserTest, CycleInGroupsIsRefused) {
  const std::string error = ErrorOf(ReplaceOnce(kMinimal, "web: {}", "web: {includes: [all]}"));
  EXPECT_THAT(error, HasSubstr("tenants.acme.model.groups.web.includes: groups include each "
                               "other in a cycle: web -> all -> web"));
}

TEST(PolicyParserTest, EveryProblemIsReportedAtOnce) {
  std::string yaml = ReplaceOnce(kMinimal, "activity: unsubscribed", "activity: unsubscribe");
  yaml = ReplaceOnce(yaml, "group: web", "group: mobile");
  yaml = ReplaceOnce(yaml, "sql_ready: 80", "sql_ready: 40");
  yaml = ReplaceOnce(yaml, "{a: 30, b: 20, c: 10}", "{a: 10, b: 20, c: 30}");
  yaml = ReplaceOnce(yaml, "id: unsub", "id: pricing");
  yaml = ReplaceOnce(yaml, "per: 1d", "per: 0s");
  yaml = ReplaceOnce(yaml, "includes: [web]", "includes: [webb]");
  yaml = ReplaceOnce(yaml, "max: 1000", "max: 10");
  const std::string error = ErrorOf(yaml);
  EXPECT_THAT(error, HasSubstr("engagement[1].activity: unknown activity type \"unsubscribe\""));
  EXPECT_THAT(error, HasSubstr("engagement[0].group: unknown group \"mobile\""));
  EXPECT_THAT(error, HasSubstr("sql_ready: must be above mql (50)"));
  EXPECT_THAT(error, HasSubstr("grades: needs a > b > c"));
  EXPECT_THAT(error, HasSubstr("engagement[1].id: rule id \"pricing\" is used twice"));
  EXPECT_THAT(error, HasSubstr("engagement[0].cap.per: must be greater than 0"));
  EXPECT_THAT(error, HasSubstr("groups.all.includes[0]: unknown group \"webb\""));
  EXPECT_THAT(error, HasSubstr("fit[1].company_size.max: is below min (100)"));
}

TEST(PolicyParserTest, AModelThatIsNotAMappingIsRefused) {
  const std::string error =
      ErrorOf("activity_types: [page_viewed]\ntenants:\n  acme:\n    model: 5\n");
  EXPECT_THAT(error, HasSubstr("tenants.acme.model: must be a mapping"));
}

TEST(PolicyParserTest, ParseModelReadsACandidateAgainstTheActivityTypes) {
  auto model = ParseModel(
      "id: m2\nversion: 3\nmql: 10\nsql_ready: 20\ngrades: {a: 3, b: 2, c: 1}\n"
      "engagement:\n  - {id: f, activity: form_submitted, points: 10}\n",
      {"form_submitted"});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->version, 3);
  auto bad = ParseModel(
      "id: m2\nversion: 3\nmql: 10\nsql_ready: 20\ngrades: {a: 3, b: 2, c: 1}\n"
      "engagement:\n  - {id: f, activity: webinar, points: 10}\n",
      {"form_submitted"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("model_yaml:7: engagement[0].activity: unknown activity type"));
}

}  // namespace
}  // namespace flywheel::lead_scoring
