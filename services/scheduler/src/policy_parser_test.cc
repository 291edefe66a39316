#include "policy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "flywheel/config/testing/policy_edit.h"

namespace flywheel::scheduler {
namespace {

using ::flywheel::config::testing::ReplaceOnce;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMinimal[] = R"yaml(
tenants:
  acme:
    calendars:
      emea:
        time_zone: Europe/Berlin
        hours:
          mon: ["09:00-12:30", "13:30-17:30"]
          tue: ["13:30-17:30", "09:00-12:30"]
          sat: []
        holidays: [2026-01-01, 2026-12-25]
      nights:
        time_zone: America/New_York
        hours: {sun: ["22:00-24:00"]}
      always:
        always_open: true
    default_calendar: emea
    team_calendars: {social: always}
    warn_percent: 75
    escalation:
      by_kind:
        stage_sla:
          - {after: 0s, action: remind, target: owner}
          - {after: 4h, action: notify, target: manager}
          - {after: 1d, action: reassign, target: team_lead}
      by_stage:
        legal: [{after: 2h, action: notify, target: ops_admin}]
)yaml";

std::string ErrorOf(const std::string& yaml) {
  return config::testing::InvalidPolicyMessage(ParsePolicy(yaml));
}

absl::Time Berlin(int y, int mo, int d, int h, int mi = 0) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Berlin", &tz));
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), tz);
}

TEST(PolicyParserTest, MinimalPolicyParses) {
  auto policy = ParsePolicy(kMinimal);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const TenantSchedule* acme = policy->FindTenant("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(policy->FindTenant("globex"), nullptr);
  EXPECT_DOUBLE_EQ(acme->warn_share, 0.75);

  const BusinessCalendar* emea = acme->FindCalendar("");
  ASSERT_NE(emea, nullptr);
  EXPECT_EQ(emea, acme->FindCalendar("emea"));
  EXPECT_EQ(acme->FindCalendar("apac"), nullptr);
  EXPECT_EQ(emea->spec().time_zone, "Europe/Berlin");
  EXPECT_THAT(emea->spec().hours[1],
              ElementsAre(WorkingInterval{540, 750}, WorkingInterval{810, 1050}));
  EXPECT_TRUE(emea->spec().hours[5].empty());
  EXPECT_THAT(emea->spec().holidays,
              ElementsAre(absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 12, 25)));
  EXPECT_EQ(emea->weekly_time(), absl::Hours(15));
  EXPECT_THAT(acme->FindCalendar("nights")->spec().hours[6],
              ElementsAre(WorkingInterval{1320, 1440}));

  EXPECT_EQ(acme->CalendarOfTeam("social"), acme->FindCalendar("always"));
  EXPECT_EQ(acme->CalendarOfTeam("content"), emea);
  const BusinessCalendar* always = acme->FindCalendar("always");
  EXPECT_EQ(always->weekly_time(), absl::Hours(24 * 7));
  EXPECT_TRUE(always->IsOpen(Berlin(2026, 1, 3, 3)));

  const EscalationChain* stage_sla = acme->FindEscalation(common::v1::TIMER_KIND_STAGE_SLA, "copy");
  ASSERT_NE(stage_sla, nullptr);
  EXPECT_THAT(*stage_sla, ElementsAre(EscalationStep{absl::ZeroDuration(), "remind", "owner"},
                                      EscalationStep{absl::Hours(4), "notify", "manager"},
                                      EscalationStep{absl::Hours(24), "reassign", "team_lead"}));
  const EscalationChain* legal = acme->FindEscalation(common::v1::TIMER_KIND_STAGE_SLA, "legal");
  ASSERT_NE(legal, nullptr);
  EXPECT_THAT(*legal, ElementsAre(EscalationStep{absl::Hours(2), "notify", "ops_admin"}));
  EXPECT_EQ(acme->FindEscalation(common::v1::TIMER_KIND_APPROVAL_STEP, ""), nullptr);
}

TEST(PolicyParserTest, WarnShareDefaultsToEightyPercent) {
  auto policy = ParsePolicy(ReplaceOnce(kMinimal, "    warn_percent: 75\n", ""));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_DOUBLE_EQ(policy->FindTenant("acme")->warn_share, 0.8);
}

TEST(PolicyParserTest, ShippedFileParsesAndIsWhatIsCompiledIn) {
  std::ifstream in(FLYWHEEL_SCHEDULER_DEFAULT_POLICY_PATH);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), DefaultPolicyYaml());
  auto policy = ParsePolicy(text.str());
  ASSERT_TRUE(policy.ok()) << policy.status();
  for (const char* tenant : {"acme", "demo"}) {
    const TenantSchedule* schedule = policy->FindTenant(tenant);
    ASSERT_NE(schedule, nullptr) << tenant;
    const BusinessCalendar* emea = schedule->FindCalendar("");
    ASSERT_NE(emea, nullptr) << tenant;
    EXPECT_EQ(emea, schedule->FindCalendar("emea"));
    EXPECT_EQ(emea->spec().time_zone, "Europe/Berlin");
    EXPECT_EQ(emea->weekly_time(), absl::Minutes(5 * (7 * 60 + 30)));
    EXPECT_EQ(emea->spec().holidays.size(), 9u);
    EXPECT_DOUBLE_EQ(schedule->warn_share, 0.8);
    // The example of the file's header: 4h from Friday 16:00 is Monday 11:30.
    EXPECT_EQ(emea->AddBusinessTime(Berlin(2026, 1, 9, 16), absl::Hours(4)),
              Berlin(2026, 1, 12, 11, 30));
    // Good Friday and Easter Monday are closed.
    EXPECT_EQ(emea->AddBusinessTime(Berlin(2026, 4, 2, 16), absl::Hours(4)),
              Berlin(2026, 4, 7, 11, 30));
    const BusinessCalendar* always = schedule->FindCalendar("always_open");
    ASSERT_NE(always, nullptr);
    EXPECT_EQ(schedule->CalendarOfTeam("social"), always);
    EXPECT_EQ(always->AddBusinessTime(Berlin(2026, 1, 10, 3), absl::Hours(4)),
              Berlin(2026, 1, 10, 7));
    for (auto kind : {common::v1::TIMER_KIND_STAGE_SLA, common::v1::TIMER_KIND_REQUEST_SLA,
                      common::v1::TIMER_KIND_APPROVAL_STEP}) {
      EXPECT_NE(schedule->FindEscalation(kind, ""), nullptr) << tenant << " " << kind;
    }
    EXPECT_EQ(schedule->FindEscalation(common::v1::TIMER_KIND_STAGE_SLA, "scheduling_qa")
                  ->back()
                  .target_role,
              "ops_admin");
    EXPECT_EQ(schedule->publishing.MinGapFor("linkedin:acme-corp"), absl::Hours(4));
    EXPECT_EQ(schedule->publishing.MinGapFor("x:acme"), absl::Minutes(30));
    EXPECT_EQ(schedule->publishing.MinGapFor("email:newsletter-de"), absl::Hours(24));
    EXPECT_EQ(schedule->publishing.MinGapFor("podcast:weekly"), absl::Hours(1)) << "the default";
  }
  ASSERT_TRUE(LoadPolicyFile(FLYWHEEL_SCHEDULER_DEFAULT_POLICY_PATH).ok());
  EXPECT_EQ(LoadPolicyFile("/nonexistent/scheduler.yaml").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyParserTest, EachKindOfErrorIsNamed) {
  struct Case {
    std::string from, to, problem;
  };
  const std::string emea = "tenants.acme.calendars.emea.";
  const Case cases[] = {
      {"time_zone: Europe/Berlin", "time_zone: Europe/Berln",
       "<inline>:6: " + emea +
           "time_zone: unknown time zone \"Europe/Berln\"; expected an IANA name like "
           "Europe/Berlin"},
      {"        time_zone: Europe/Berlin\n", "", "<inline>:6: " + emea + "time_zone: is required"},
      {"\"13:30-17:30\", \"09:00-12:30\"", "\"13:30-17:30\", \"09:00-14:00\"",
       "<inline>:9: " + emea + "hours.tue[1]: \"09:00-14:00\" overlaps \"13:30-17:30\""},
      {"\"09:00-12:30\", \"13:30-17:30\"]", "\"12:30-09:00\", \"13:30-17:30\"]",
       "<inline>:8: " + emea + "hours.mon[0]: \"12:30-09:00\" ends before it starts"},
      {"\"09:00-12:30\", \"13:30-17:30\"]", "\"09:00-09:00\", \"13:30-17:30\"]",
       "<inline>:8: " + emea + "hours.mon[0]: \"09:00-09:00\" ends when it starts"},
      {"\"09:00-12:30\", \"13:30-17:30\"]", "\"9-5\", \"13:30-17:30\"]",
       "<inline>:8: " + emea +
           "hours.mon[0]: must be a time range like 09:00-17:30 (24:00 ends at midnight), got "
           "\"9-5\""},
      {"\"09:00-12:30\", \"13:30-17:30\"]", "\"09:00-12:30\", \"13:30-24:30\"]",
       "<inline>:8: " + emea + "hours.mon[1]: must be a time range"},
      {"\"09:00-12:30\", \"13:30-17:30\"]", "\"24:00-24:00\"]",
       "<inline>:8: " + emea + "hours.mon[0]: must be a time range"},
      {"sat: []", "sun: []\n          sam: []",
       "<inline>:11: " + emea + "hours.sam: unknown key; did you mean 'sat'?"},
      {"hours: {sun: [\"22:00-24:00\"]}", "hours: {sun: []}",
       "<inline>:14: tenants.acme.calendars.nights.hours: has no working hours: a calendar "
       "must be open some time in the week"},
      {"hours: {sun: [\"22:00-24:00\"]}", "hours: [\"22:00-24:00\"]",
       "<inline>:14: tenants.acme.calendars.nights.hours: must be a mapping"},
      {"      nights:\n        time_zone: America/New_York\n        hours: {sun: "
       "[\"22:00-24:00\"]}",
       "      nights:\n        time_zone: America/New_York",
       "<inline>:13: tenants.acme.calendars.nights.hours: is required"},
      {"always_open: true", "always_open: true\n        hours: {mon: [\"09:00-10:00\"]}",
       "<inline>:17: tenants.acme.calendars.always.hours: is not taken with always_open"},
      {"[2026-01-01, 2026-12-25]", "[2026-01-01, 2026-02-30]",
       "<inline>:11: " + emea + "holidays[1]: must be a date like 2026-12-25, got \"2026-02-30\""},
      {"[2026-01-01, 2026-12-25]", "[2026-01-01, 2026-01-01]",
       "<inline>:11: " + emea + "holidays[1]: holiday 2026-01-01 is listed twice"},
      {"default_calendar: emea", "default_calendar: apac",
       "<inline>:17: tenants.acme.default_calendar: unknown calendar \"apac\""},
      {"{social: always}", "{social: allways}",
       "<inline>:18: tenants.acme.team_calendars.social: unknown calendar \"allways\""},
      {"warn_percent: 75", "warn_percent: 100",
       "<inline>:19: tenants.acme.warn_percent: must be between 1 and 99"},
      {"after: 1d", "after: 1h",
       "<inline>:25: tenants.acme.escalation.by_kind.stage_sla[2].after: must not be earlier "
       "than the step before it (4h)"},
      {"action: reassign", "action: fire",
       "<inline>:25: tenants.acme.escalation.by_kind.stage_sla[2].action: must be one of "
       "remind, notify, reassign, got \"fire\""},
      {"target: manager", "target: boss",
       "<inline>:24: tenants.acme.escalation.by_kind.stage_sla[1].target: must be one of"},
      {"stage_sla:", "stage_slaa:",
       "<inline>:22: tenants.acme.escalation.by_kind.stage_slaa: unknown timer kind"},
      {"by_stage:", "per_stage:",
       "<inline>:26: tenants.acme.escalation.per_stage: unknown key; did you mean 'by_stage'?"},
      {"legal: [{after: 2h, action: notify, target: ops_admin}]", "legal: []",
       "<inline>:27: tenants.acme.escalation.by_stage.legal: must be a non-empty list"},
      {"warn_percent:", "warn_percnt:",
       "<inline>:19: tenants.acme.warn_percnt: unknown key; did you mean 'warn_percent'?"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ErrorOf(ReplaceOnce(kMinimal, c.from, c.to)), HasSubstr(c.problem)) << c.to;
  }
}

TEST(PolicyParserTest, PublishingGapsArePerPlatform) {
  const std::string with = std::string(kMinimal) +
                           "    publishing:\n"
                           "      min_gap: {linkedin: 4h, x: 30m}\n"
                           "      default_min_gap: 15m\n";
  auto policy = ParsePolicy(with);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const PublishingRules& rules = policy->FindTenant("acme")->publishing;
  EXPECT_EQ(rules.MinGapFor("linkedin:acme-corp"), absl::Hours(4));
  EXPECT_EQ(rules.MinGapFor("linkedin:acme-careers"), absl::Hours(4)) << "per platform";
  EXPECT_EQ(rules.MinGapFor("x"), absl::Minutes(30)) << "a destination without ':'";
  EXPECT_EQ(rules.MinGapFor("blog:main"), absl::Minutes(15));

  auto without = ParsePolicy(kMinimal);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_EQ(without->FindTenant("acme")->publishing.MinGapFor("linkedin:a"), absl::ZeroDuration())
      << "no publishing section: slots may touch";

  EXPECT_THAT(ErrorOf(ReplaceOnce(with, "x: 30m", "x: soon")),
              HasSubstr("tenants.acme.publishing.min_gap.x: "));
  EXPECT_THAT(ErrorOf(ReplaceOnce(with, "x: 30m", "\"x:acme\": 30m")),
              HasSubstr("tenants.acme.publishing.min_gap.x:acme: a platform has no ':'"));
  EXPECT_THAT(
      ErrorOf(ReplaceOnce(with, "default_min_gap", "default_gap")),
      HasSubstr("publishing.default_gap: unknown key; expected one of min_gap, default_min_gap"));
}

TEST(PolicyParserTest, EveryProblemIsReportedAtOnce) {
  std::string error = ErrorOf(
      ReplaceOnce(ReplaceOnce(kMinimal, "Europe/Berlin", "Mars/Olympus"), "sat: []", "fri: [x]"));
  EXPECT_THAT(error, ::testing::StartsWith("invalid policy, 2 problems:\n"));
  EXPECT_THAT(error, HasSubstr("\n<inline>:6: "));
  EXPECT_THAT(error, HasSubstr("\n<inline>:10: "));
}

TEST(PolicyParserTest, MissingSectionsAreRequired) {
  EXPECT_THAT(ErrorOf("other: 1\n"), HasSubstr("<inline>:1: tenants: is required"));
  EXPECT_THAT(ErrorOf("tenants:\n  acme: {default_calendar: x}\n"),
              HasSubstr("<inline>:2: tenants.acme.calendars: is required"));
  EXPECT_THAT(ErrorOf("tenants:\n  acme: 5\n"),
              HasSubstr("<inline>:2: tenants.acme: must be a mapping"));
  EXPECT_THAT(ErrorOf("tenants:\n  acme:\n    calendars: {c: }\n    default_calendar: c\n"),
              HasSubstr("<inline>:3: tenants.acme.calendars.c: must not be empty"));
}

}  // namespace
}  // namespace flywheel::scheduler
