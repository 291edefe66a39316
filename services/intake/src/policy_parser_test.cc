#include "policy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace flywheel::intake {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of parsing `yaml`, which must fail.
std::string ProblemsOf(const std::string& yaml) {
  auto policy = ParsePolicy(yaml);
  EXPECT_FALSE(policy.ok()) << "parsed, but should not have:\n" << yaml;
  if (policy.ok()) return "";
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

constexpr char kMinimal[] = R"(
tenants: [acme]
request_types:
  - id: blog_post
)";

TEST(ParsePolicyTest, ShippedFileParsesAndIsWhatIsCompiledIn) {
  const std::string shipped = ReadFile(FLYWHEEL_INTAKE_DEFAULT_POLICY_PATH);
  ASSERT_FALSE(shipped.empty());
  EXPECT_EQ(shipped, DefaultPolicyYaml());
  auto policy = ParsePolicy(shipped);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->TypeIds(), ElementsAre("blog_post", "campaign_launch", "email",
                                             "landing_page", "paid_creative", "social_post"));
  EXPECT_TRUE(policy->tenants.contains("acme"));
  const RequestTypePolicy* social = policy->FindType("social_post");
  ASSERT_NE(social, nullptr);
  EXPECT_EQ(social->sla_class, common::v1::SLA_CLASS_EXPEDITED);
  const FieldRule* network = social->FindField("network");
  ASSERT_NE(network, nullptr);
  EXPECT_EQ(network->kind, v1::FIELD_KIND_CHOICE);
  EXPECT_TRUE(network->required);
  EXPECT_THAT(network->allowed_values, ::testing::Contains("linkedin"));
  const FieldRule* publish = policy->FindType("blog_post")->FindField("publish_date");
  ASSERT_NE(publish, nullptr);
  EXPECT_TRUE(publish->future);
  EXPECT_EQ(policy->priority.rules.front().id, "critical_impact");
  EXPECT_EQ(policy->priority.tiers.at("executive_office"), "executive");
  EXPECT_EQ(policy->sla_by_priority.at(common::v1::PRIORITY_P1), common::v1::SLA_CLASS_EXPEDITED);
}

TEST(ParsePolicyTest, MinimalPolicyGetsDefaults) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->request_types[0].sla_class, common::v1::SLA_CLASS_STANDARD);
  EXPECT_EQ(policy->priority.default_priority, common::v1::PRIORITY_P3);
  EXPECT_TRUE(policy->priority.rules.empty());
}

TEST(ParsePolicyTest, SyntaxErrorNamesFileAndLine) {
  EXPECT_THAT(ProblemsOf("tenants: [acme\nrequest_types: x\n"),
              ::testing::StartsWith("invalid policy, 1 problem:\n<inline>:"));
  EXPECT_THAT(ProblemsOf("tenants: [acme\nrequest_types: x\n"), HasSubstr(": invalid YAML: "));
}

TEST(ParsePolicyTest, BadFieldKindNamesPathAndLine) {
  EXPECT_THAT(ProblemsOf(R"(tenants: [acme]
request_types:
  - id: blog_post
  - id: email
    fields:
      - key: subject
        kind: texte
)"),
              HasSubstr("<inline>:7: request_types[1].fields[0].kind: unknown field kind "
                        "\"texte\"; did you mean 'text'?"));
}

TEST(ParsePolicyTest, EveryProblemIsReportedAtOnce) {
  const std::string problems = ProblemsOf(R"(tenants: [acme, acme]
request_types:
  - id: Blog Post
  - id: email
    sla_class: slow
    colour: blue
    fields:
      - {key: pick, kind: choice}
      - {key: when, kind: text, future: true}
      - {key: count, kind: number, max_length: -3}
      - {key: size, kind: number}
      - {key: size, kind: number}
)");
  EXPECT_THAT(problems, HasSubstr("<inline>:1: tenants[1]: duplicate tenant \"acme\""));
  EXPECT_THAT(problems, HasSubstr("<inline>:3: request_types[0].id: must be lower_snake_case"));
  EXPECT_THAT(problems,
              HasSubstr("<inline>:5: request_types[1].sla_class: unknown sla class \"slow\""));
  EXPECT_THAT(problems, HasSubstr("<inline>:6: request_types[1].colour: unknown key"));
  EXPECT_THAT(problems, HasSubstr("<inline>:8: request_types[1].fields[0].allowed_values: is "
                                  "required for a choice field"));
  EXPECT_THAT(problems, HasSubstr("<inline>:9: request_types[1].fields[1].future: applies to "
                                  "date fields only"));
  EXPECT_THAT(problems, HasSubstr("<inline>:10: request_types[1].fields[2].max_length: must be "
                                  "between 1 and 1000000, got \"-3\""));
  EXPECT_THAT(problems,
              HasSubstr("<inline>:12: request_types[1].fields[4].key: duplicate field \"size\""));
  // One line a problem, after the count.
  EXPECT_THAT(problems, ::testing::StartsWith("invalid policy, 8 problems:\n"));
}

TEST(ParsePolicyTest, MissingTenantsAndTypesAreNamed) {
  const std::string problems = ProblemsOf("priority: {default: P3}\n");
  EXPECT_THAT(problems, HasSubstr("<inline>:1: tenants: is required"));
  EXPECT_THAT(problems, HasSubstr("<inline>:1: request_types: is required"));
}

TEST(ParsePolicyTest, DuplicateTypeIsRefused) {
  EXPECT_THAT(ProblemsOf("tenants: [a]\nrequest_types:\n  - id: email\n  - id: email\n"),
              HasSubstr("<inline>:4: request_types[1].id: duplicate request type \"email\""));
}

TEST(ParsePolicyTest, PriorityRuleProblemsAreNamed) {
  const std::string problems = ProblemsOf(std::string(kMinimal) + R"(priority:
  tiers: {exec_team: executive}
  rules:
    - id: no_conditions
      priority: P1
      reason: always
    - due_within: soon
      priority: P2
      reason: x
    - impact_at_least: huge
      priority: P0
    - requester_tier: vip
      priority: P2
      reason: vip
)");
  EXPECT_THAT(problems, HasSubstr("<inline>:8: priority.rules[0]: has no condition"));
  EXPECT_THAT(problems, HasSubstr("<inline>:11: priority.rules[1].due_within: must be a duration "
                                  "like 250ms, 90s, 15m, 2h or 3d, got \"soon\""));
  EXPECT_THAT(problems, HasSubstr("<inline>:14: priority.rules[2].impact_at_least: unknown impact "
                                  "level \"huge\""));
  EXPECT_THAT(problems, HasSubstr("<inline>:15: priority.rules[2].priority: unknown priority "
                                  "\"P0\"; expected P1, P2, P3 or P4"));
  EXPECT_THAT(problems, HasSubstr("<inline>:14: priority.rules[2].reason: is required"));
  EXPECT_THAT(problems, HasSubstr("<inline>:16: priority.rules[3].requester_tier: tier \"vip\" "
                                  "is given to no team"));
}

TEST(ParsePolicyTest, DurationsAcceptDays) {
  auto policy = ParsePolicy(std::string(kMinimal) + R"(priority:
  rules:
    - {due_within: 7d, priority: P2, reason: this week}
    - {due_within: 90m, priority: P1, reason: now}
)");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(*policy->priority.rules[0].due_within, absl::Hours(24 * 7));
  EXPECT_EQ(*policy->priority.rules[1].due_within, absl::Minutes(90));
}

TEST(ParsePolicyTest, WorkflowTemplateIsRoutingsToChoose) {
  EXPECT_THAT(ProblemsOf("tenants: [acme]\nrequest_types:\n  - id: email\n"
                         "    workflow_template: email_standard\n"),
              HasSubstr("<inline>:4: request_types[0].workflow_template: is no longer read here: "
                        "routing's policy names each request type's workflow template"));
}

TEST(ParsePolicyTest, EnumsTakeEitherCaseAndTheirPrefix) {
  auto policy = ParsePolicy(std::string(kMinimal) +
                            "    sla_class: RAPID_RESPONSE\n"
                            "sla_by_priority: {p1: sla_class_expedited}\n");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->request_types[0].sla_class, common::v1::SLA_CLASS_RAPID_RESPONSE);
  EXPECT_EQ(policy->sla_by_priority.at(common::v1::PRIORITY_P1), common::v1::SLA_CLASS_EXPEDITED);
}

TEST(LoadPolicyFileTest, UnreadableFileIsFailedPreconditionAndNamed) {
  auto policy = LoadPolicyFile("/nonexistent/intake.yaml");
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(policy.status().message(), HasSubstr("/nonexistent/intake.yaml"));
}

}  // namespace
}  // namespace flywheel::intake
