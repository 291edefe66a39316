#include "policy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "flywheel/config/testing/policy_edit.h"

namespace flywheel::routing {
namespace {

using ::flywheel::config::testing::ReplaceOnce;
using ::testing::HasSubstr;

constexpr char kMinimal[] = R"yaml(
templates:
  t:
    stages:
      - {stage: creation, owner_role: creator, sla: 2h}
      - stage: scheduling_qa
        owner_role: ops
        sla: 1d
        exit: [{id: links, utm_tagging: {links_field: asset_links}}]
request_types: {social_post: t}
default_template: t
teams:
  - id: social
    strategy: round_robin
    members: [{id: dev, skills: [social], wip_limit: 2}]
assignment_rules:
  - {id: r1, request_types: [social_post], channels: [social_paid], team: social}
default_team: social
tiering:
  default_tier: 1
  default_approval_policy: p1
  rules:
    - {id: health, keywords: [health], tier: 3, approval_policy: p3}
)yaml";

std::string ErrorOf(const std::string& yaml) {
  return config::testing::InvalidPolicyMessage(ParsePolicy(yaml));
}

TEST(PolicyParserTest, MinimalPolicyParses) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const WorkflowTemplate* t = policy->TemplateFor("social_post");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->stages.size(), 2u);
  EXPECT_EQ(t->stages[0].id, "creation");
  EXPECT_EQ(t->stages[0].sla, absl::Hours(2));
  EXPECT_EQ(t->stages[1].sla, absl::Hours(24));
  EXPECT_EQ(t->stages[1].stage, common::v1::STAGE_SCHEDULING_QA);
  ASSERT_EQ(t->stages[1].exit.size(), 1u);
  EXPECT_EQ(t->stages[1].exit[0].kind, StageCriterion::Kind::kUtmTagging);
  EXPECT_EQ(policy->TemplateFor("unknown_type"), t);  // the default
  EXPECT_EQ(policy->FindTeam("social")->strategy, Strategy::kRoundRobin);
  EXPECT_EQ(policy->FindTeam("social")->members[0].wip_limit, 2);
  EXPECT_EQ(policy->tiering_rules[0].tier, 3);
}

TEST(PolicyParserTest, ShippedDefaultParsesAndIsCompiledIn) {
  std::ifstream in(FLYWHEEL_ROUTING_DEFAULT_POLICY_PATH);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultPolicyYaml());
  auto policy = ParsePolicy(text.str());
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->TemplateFor("social_post")->id, "rapid_response");
  EXPECT_LT(policy->TemplateFor("social_post")->stages.size(),
            policy->TemplateFor("blog_post")->stages.size());
  EXPECT_EQ(policy->TemplateFor("campaign_launch")->id, "campaign");
  ASSERT_TRUE(LoadPolicyFile(FLYWHEEL_ROUTING_DEFAULT_POLICY_PATH).ok());
}

TEST(PolicyParserTest, UnreadableFileIsFailedPrecondition) {
  auto policy = LoadPolicyFile("/nonexistent/policy.yaml");
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(policy.status().message(), HasSubstr("/nonexistent/policy.yaml"));
}

TEST(PolicyParserTest, BadYamlNamesTheLine) {
  EXPECT_THAT(ErrorOf("templates: [unclosed\n"),
              ::testing::StartsWith("invalid policy, 1 problem:\n<inline>:"));
  EXPECT_THAT(ErrorOf("templates: [unclosed\n"), HasSubstr(": invalid YAML: "));
  EXPECT_THAT(ErrorOf("- a list\n"),
              HasSubstr("<inline>:1: the top level must be a mapping of keys to values"));
}

TEST(PolicyParserTest, UnknownStageNamesPathAndLine) {
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "stage: creation", "stage: drafting")),
              HasSubstr("<inline>:5: templates.t.stages[0].stage: unknown stage \"drafting\"; "
                        "expected intake, research, brief, creation, review, approval, "
                        "scheduling_qa, launch or measurement"));
}

TEST(PolicyParserTest, EachKindOfErrorIsNamed) {
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "sla: 2h", "sla: soon")),
              HasSubstr("<inline>:5: templates.t.stages[0].sla: must be a duration like 250ms, "
                        "90s, 15m, 2h or 3d, got \"soon\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "{links_field: asset_links}",
                                  "{links_field: asset_links, campaign_pattern: \"([a-z\"}")),
              HasSubstr("<inline>:9: templates.t.stages[1].exit[0].utm_tagging.campaign_pattern: "
                        "is not a valid regular expression"));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "social_post: t}", "social_post: nope}")),
              HasSubstr("<inline>:10: request_types.social_post: unknown template \"nope\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "channels: [social_paid], team: social",
                                  "channels: [social_paid], team: video")),
              HasSubstr("<inline>:17: assignment_rules[0].team: unknown team \"video\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "channels: [social_paid]", "channels: [telepathy]")),
              HasSubstr("<inline>:17: assignment_rules[0].channels[0]: unknown channel "
                        "\"telepathy\"; expected email,"));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "tier: 3", "tier: 7")),
              HasSubstr("<inline>:23: tiering.rules[0].tier: must be between 0 and 3, got \"7\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "wip_limit: 2", "wip_limit: 0")),
              HasSubstr("<inline>:15: teams[0].members[0].wip_limit: must be between 1 and 1000, "
                        "got \"0\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "strategy: round_robin", "strategy: random")),
              HasSubstr("<inline>:14: teams[0].strategy: must be one of least_loaded, "
                        "round_robin, got \"random\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "owner_role: creator", "owner: creator")),
              HasSubstr("<inline>:5: templates.t.stages[0].owner: unknown key; did you mean "
                        "'owner_role'?"));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "default_team: social", "default_team: nobody")),
              HasSubstr("<inline>:18: default_team: unknown team \"nobody\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "keywords: [health], ", "")),
              HasSubstr("<inline>:23: tiering.rules[0]: needs at least one of"));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "{id: dev,", "{id: dev, on_leave: maybe,")),
              HasSubstr("<inline>:15: teams[0].members[0].on_leave: must be true or false, got "
                        "\"maybe\""));
}

TEST(PolicyParserTest, EnumNamesAreReadInAnyCaseWithOrWithoutPrefix) {
  auto policy =
      ParsePolicy(ReplaceOnce(ReplaceOnce(kMinimal, "stage: creation", "stage: CREATION"),
                              "channels: [social_paid]", "channels: [CHANNEL_SOCIAL_PAID]"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->TemplateFor("social_post")->stages[0].stage, common::v1::STAGE_CREATION);
  EXPECT_EQ(policy->TemplateFor("social_post")->stages[0].id, "creation");
  EXPECT_THAT(policy->assignment_rules[0].channels, ::testing::ElementsAre("social_paid"));
}

TEST(PolicyParserTest, EveryProblemIsReportedAtOnce) {
  std::string yaml =
      ReplaceOnce(ReplaceOnce(kMinimal, "sla: 2h", "sla: soon"), "tier: 3", "tier: 9");
  std::string error = ErrorOf(yaml);
  EXPECT_THAT(error, ::testing::StartsWith("invalid policy, 2 problems:\n"));
  EXPECT_THAT(error, HasSubstr("\n<inline>:5: templates.t.stages[0].sla: "));
  EXPECT_THAT(error, HasSubstr("\n<inline>:23: tiering.rules[0].tier: "));
}

TEST(PolicyParserTest, MissingSectionsAreRequired) {
  EXPECT_THAT(ErrorOf("default_template: x\n"), HasSubstr("<inline>:1: templates: is required"));
  EXPECT_THAT(ErrorOf("default_template: x\n"), HasSubstr("<inline>:1: teams: is required"));
  EXPECT_THAT(ErrorOf("default_template: x\n"), HasSubstr("<inline>:1: tiering: is required"));
  EXPECT_THAT(ErrorOf("default_template: x\nteams: []\n"),
              HasSubstr("<inline>:2: teams: must be a non-empty list"));
}

}  // namespace
}  // namespace flywheel::routing
