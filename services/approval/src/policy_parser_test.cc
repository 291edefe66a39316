#include "policy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "flywheel/config/testing/policy_edit.h"

namespace flywheel::approval {
namespace {

using ::flywheel::config::testing::ReplaceOnce;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMinimal[] = R"yaml(
tenants:
  acme:
    groups:
      brand: [bea, bob]
      legal: [lena, leo, lou]
    chains:
      t2:
        restart: asking_step
        require_resolved_comments: false
        stages:
          - steps:
              - {id: brand, approvers: {groups: [brand]}, rule: any, sla: 1d,
                 escalate_to: {users: [max]}}
              - {id: legal, approvers: {groups: [legal], users: [lou, ola]}, rule: quorum,
                 quorum: 2, sla: 1d12h}
          - steps:
              - {id: final, approvers: {users: [cora]}, rule: all}
)yaml";

std::string ErrorOf(const std::string& yaml) {
  return config::testing::InvalidPolicyMessage(ParsePolicy(yaml));
}

TEST(PolicyParserTest, MinimalPolicyParses) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const ChainSpec* chain = policy->FindChain("acme", "t2");
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(chain->restart, Restart::kAskingStep);
  EXPECT_FALSE(chain->require_resolved_comments);
  EXPECT_TRUE(chain->require_rejection_reason);  // the default
  ASSERT_EQ(chain->stages.size(), 2u);
  ASSERT_EQ(chain->stages[0].steps.size(), 2u);
  const StepSpec& legal = chain->stages[0].steps[1];
  EXPECT_EQ(legal.rule, v1::APPROVAL_RULE_QUORUM);
  EXPECT_EQ(legal.quorum, 2);
  EXPECT_EQ(legal.sla, absl::Hours(36));
  EXPECT_THAT(chain->stages[0].steps[0].escalate_to.users, ElementsAre("max"));
  EXPECT_EQ(chain->stages[1].steps[0].rule, v1::APPROVAL_RULE_ALL);
  EXPECT_EQ(policy->FindChain("acme", "t9"), nullptr);
  EXPECT_EQ(policy->FindChain("globex", "t2"), nullptr);
}

TEST(PolicyParserTest, ApproversExpandToPeopleOnceEach) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const TenantSpec& acme = *policy->FindTenant("acme");
  // Named users first, then group members; lou is named and in legal.
  EXPECT_THAT(Expand(acme, policy->FindChain("acme", "t2")->stages[0].steps[1].approvers),
              ElementsAre(Designee{"lou", ""}, Designee{"ola", ""}, Designee{"lena", "legal"},
                          Designee{"leo", "legal"}));
}

TEST(PolicyParserTest, ShippedDefaultParsesAndIsCompiledIn) {
  std::ifstream in(FLYWHEEL_APPROVAL_DEFAULT_POLICY_PATH);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultPolicyYaml());
  auto policy = ParsePolicy(text.str());
  ASSERT_TRUE(policy.ok()) << policy.status();
  // Every approval policy routing's shipped tiering names has a chain.
  for (const char* id : {"tier0-auto", "tier1-single-reviewer", "tier2-brand-legal",
                         "tier3-brand-legal-compliance"}) {
    EXPECT_NE(policy->FindChain("acme", id), nullptr) << id;
    EXPECT_NE(policy->FindChain("demo", id), nullptr) << id;
  }
  EXPECT_TRUE(policy->FindChain("acme", "tier0-auto")->stages.empty());
  EXPECT_EQ(policy->FindChain("acme", "tier3-brand-legal-compliance")->stages.size(), 2u);
  ASSERT_TRUE(LoadPolicyFile(FLYWHEEL_APPROVAL_DEFAULT_POLICY_PATH).ok());
  EXPECT_EQ(LoadPolicyFile("/nonexistent/approval.yaml").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyParserTest, UnknownGroupIsRefusedWithPathAndLine) {
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "groups: [brand]", "groups: [brnad]")),
              HasSubstr("<inline>:13: tenants.acme.chains.t2.stages[0].steps[0].approvers."
                        "groups[0]: unknown group \"brnad\""));
  EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, "escalate_to: {users: [max]}",
                                  "escalate_to: {groups: [leads]}")),
              HasSubstr("<inline>:14: tenants.acme.chains.t2.stages[0].steps[0].escalate_to."
                        "groups[0]: unknown group \"leads\""));
}

TEST(PolicyParserTest, EachKindOfErrorIsNamed) {
  struct Case {
    std::string from, to, problem;
  };
  const std::string chain = "tenants.acme.chains.t2.";
  const Case cases[] = {
      {"rule: any", "rule: most",
       "<inline>:13: " + chain +
           "stages[0].steps[0].rule: unknown approval rule \"most\"; expected any, all or quorum"},
      {"quorum: 2", "quorum: 5",
       "<inline>:16: " + chain +
           "stages[0].steps[1].quorum: needs 5 approvals but the step has only 4 approvers"},
      {"quorum: 2, ", "",
       "<inline>:15: " + chain + "stages[0].steps[1].quorum: is required: the rule is quorum"},
      {"rule: all}", "rule: all, quorum: 1}",
       "<inline>:18: " + chain + "stages[1].steps[0].quorum: is only for rule quorum"},
      {"sla: 1d,", "",
       "<inline>:14: " + chain +
           "stages[0].steps[0].escalate_to: needs an sla: escalation happens when the sla is "
           "breached"},
      {"{id: final", "{id: brand",
       "<inline>:18: " + chain +
           "stages[1].steps[0].id: step id \"brand\" is used twice in the chain"},
      {"restart: asking_step", "restart: later",
       "<inline>:9: " + chain + "restart: must be one of first_step, asking_step, got \"later\""},
      {"approvers: {users: [cora]}", "approvers: {}",
       "<inline>:18: " + chain + "stages[1].steps[0].approvers: needs users, groups or both"},
      {"require_resolved_comments: false", "require_resolved_comments: perhaps",
       "<inline>:10: " + chain +
           "require_resolved_comments: must be true or false, got \"perhaps\""},
      {"restart:", "restrat:",
       "<inline>:9: " + chain + "restrat: unknown key; did you mean 'restart'?"},
      {"brand: [bea, bob]", "brand: []",
       "<inline>:5: tenants.acme.groups.brand: must be a non-empty list"},
      {"sla: 1d12h", "sla: soon",
       "<inline>:16: " + chain + "stages[0].steps[1].sla: must be a duration"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, c.from, c.to)), HasSubstr(c.problem)) << c.to;
  }
}

TEST(PolicyParserTest, EveryProblemIsReportedAtOnce) {
  std::string error = ErrorOf(ReplaceOnce(
      ReplaceOnce(kMinimal, "groups: [brand]", "groups: [brnad]"), "rule: all", "rule: none"));
  EXPECT_THAT(error, ::testing::StartsWith("invalid policy, 2 problems:\n"));
  EXPECT_THAT(error, HasSubstr("\n<inline>:13: "));
  EXPECT_THAT(error, HasSubstr("\n<inline>:18: "));
}

TEST(PolicyParserTest, MissingSectionsAreRequired) {
  EXPECT_THAT(ErrorOf("other: 1\n"), HasSubstr("<inline>:1: tenants: is required"));
  EXPECT_THAT(ErrorOf("tenants:\n  acme: {groups: {a: [x]}}\n"),
              HasSubstr("<inline>:2: tenants.acme.chains: is required"));
  EXPECT_THAT(ErrorOf("tenants:\n  acme:\n    groups: {a: [x]}\n    chains: {c: {}}\n"),
              HasSubstr("<inline>:4: tenants.acme.chains.c.stages: is required"));
}

}  // namespace
}  // namespace flywheel::approval
