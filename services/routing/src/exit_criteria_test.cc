#include "exit_criteria.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::routing {
namespace {

using ::testing::HasSubstr;

UtmTagging Rule() {
  return {.links_field = "asset_links",
          .value_pattern = "[a-z0-9]+(-[a-z0-9]+)*",
          .campaign_pattern = "[a-z0-9]+(-[a-z0-9]+)*-20[0-9]{2}"};
}

TEST(UtmTest, WellTaggedLinksPass) {
  EXPECT_TRUE(CheckUtmLinks("https://x.test/a?utm_source=linkedin&utm_medium=paid-social&"
                            "utm_campaign=spring-sale-2026, https://x.test/b?utm_campaign="
                            "spring-sale-2026&utm_source=news&utm_medium=email#top",
                            Rule())
                  .ok());
}

TEST(UtmTest, MissingParameterIsNamedWithTheLink) {
  absl::Status st = CheckUtmLinks(
      "https://x.test/ok?utm_source=a&utm_medium=b&utm_campaign=c-2026 "
      "https://x.test/p?utm_source=linkedin&utm_medium=social",
      Rule());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "link https://x.test/p?utm_source=linkedin&utm_medium=social lacks utm_campaign");
  EXPECT_THAT(CheckUtmLinks("https://x.test/none", Rule()).message(),
              HasSubstr("lacks utm_source"));
}

TEST(UtmTest, NamingConventionIsEnforced) {
  absl::Status st =
      CheckUtmLinks("https://x.test/?utm_source=a&utm_medium=b&utm_campaign=Spring_Sale", Rule());
  EXPECT_THAT(st.message(),
              HasSubstr("utm_campaign \"Spring_Sale\" does not follow the naming convention"));
  EXPECT_THAT(
      CheckUtmLinks("https://x.test/?utm_source=LinkedIn&utm_medium=b&utm_campaign=c-2026", Rule())
          .message(),
      HasSubstr("utm_source \"LinkedIn\""));
  // Campaign must also match the campaign pattern (a year suffix here).
  EXPECT_FALSE(
      CheckUtmLinks("https://x.test/?utm_source=a&utm_medium=b&utm_campaign=spring", Rule()).ok());
}

TEST(UtmTest, NoLinksIsRefused) {
  EXPECT_EQ(CheckUtmLinks("  ", Rule()).message(), "no links in asset_links");
}

TEST(CriteriaTest, EachKindNamesTheStageAndWhatIsMissing) {
  intake::v1::Request r;
  r.mutable_spec()->set_title("T");
  std::vector<StageCriterion> criteria = {
      {.id = "title", .kind = StageCriterion::Kind::kField, .argument = "title"},
      {.id = "brief_url", .kind = StageCriterion::Kind::kField, .argument = "brief_url"}};
  EXPECT_EQ(CheckCriteria("exit", "brief", criteria, r, {}).message(),
            "exit criterion of brief: field brief_url is empty");
  (*r.mutable_spec()->mutable_fields())["brief_url"] = "https://docs.test/b";
  EXPECT_TRUE(CheckCriteria("exit", "brief", criteria, r, {}).ok());

  std::vector<StageCriterion> checklist = {
      {.id = "proofread", .kind = StageCriterion::Kind::kChecklist, .argument = "Proofread"}};
  EXPECT_THAT(CheckCriteria("exit", "review", checklist, r, {}).message(),
              HasSubstr("checklist item proofread"));
  EXPECT_TRUE(CheckCriteria("exit", "review", checklist, r, {"proofread"}).ok());

  std::vector<StageCriterion> artefact = {
      {.id = "final_asset", .kind = StageCriterion::Kind::kArtefact, .argument = "final_asset"}};
  EXPECT_EQ(CheckCriteria("exit", "creation", artefact, r, {}).message(),
            "exit criterion of creation: artefact final_asset is not attached");
  (*r.mutable_spec()->mutable_fields())["artefacts"] = "draft, final_asset";
  EXPECT_TRUE(CheckCriteria("exit", "creation", artefact, r, {}).ok());
}

TEST(CriteriaTest, UtmCriterionReadsItsField) {
  intake::v1::Request r;
  (*r.mutable_spec()->mutable_fields())["asset_links"] =
      "https://x.test/?utm_source=a&utm_medium=b";
  std::vector<StageCriterion> utm = {
      {.id = "links", .kind = StageCriterion::Kind::kUtmTagging, .utm = Rule()}};
  EXPECT_EQ(CheckCriteria("exit", "scheduling_qa", utm, r, {}).message(),
            "exit criterion of scheduling_qa: link https://x.test/?utm_source=a&utm_medium=b "
            "lacks utm_campaign");
}

}  // namespace
}  // namespace flywheel::routing
