#include "recurrence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/civil_time.h"

namespace flywheel::scheduler {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0), absl::UTCTimeZone());
}

Recurrence ParseOk(const std::string& rule, absl::Time start,
                   const std::string& zone = "Europe/Berlin") {
  FieldErrors errors;
  std::optional<Recurrence> parsed =
      Recurrence::Parse(rule, zone, start, "recurring_work.", errors);
  EXPECT_TRUE(errors.empty()) << errors.ToStatus();
  if (parsed) return *std::move(parsed);
  ADD_FAILURE() << rule << " was refused";
  // Something to go on with, so the failure is reported, not a crash.
  return *Recurrence::Parse("FREQ=DAILY", zone, start, "", errors);
}

// The one violation a refused rule gets.
FieldViolation Refusal(const std::string& rule, const std::string& zone = "Europe/Berlin") {
  FieldErrors errors;
  std::optional<Recurrence> parsed =
      Recurrence::Parse(rule, zone, Utc(2026, 3, 23, 8, 0), "recurring_work.", errors);
  EXPECT_FALSE(parsed.has_value());
  EXPECT_EQ(errors.violations().size(), 1u) << errors.ToStatus();
  return errors.violations().empty() ? FieldViolation{} : errors.violations().front();
}

// The first `n` occurrences after `after`.
std::vector<absl::Time> Next(const Recurrence& r, absl::Time after, int n) {
  std::vector<absl::Time> out;
  while (static_cast<int>(out.size()) < n) {
    std::optional<absl::Time> next = r.After(after);
    if (!next) break;
    out.push_back(*next);
    after = *next;
  }
  return out;
}

// Mondays 09:00 in Berlin: 08:00 UTC in winter (CET), 07:00 UTC in summer
// (CEST), across the change of 2026-03-29 and back on 2026-10-25.
TEST(RecurrenceTest, WeeklyMondayNineStaysNineLocalAcrossBothChanges) {
  // Monday 2026-03-23 09:00 CET.
  const Recurrence weekly = ParseOk("FREQ=WEEKLY;BYDAY=MO", Utc(2026, 3, 23, 8, 0));
  EXPECT_THAT(Next(weekly, Utc(2026, 3, 20, 0, 0), 3),
              ::testing::ElementsAre(Utc(2026, 3, 23, 8, 0), Utc(2026, 3, 30, 7, 0),
                                     Utc(2026, 4, 6, 7, 0)));
  EXPECT_THAT(Next(weekly, Utc(2026, 10, 13, 0, 0), 3),
              ::testing::ElementsAre(Utc(2026, 10, 19, 7, 0), Utc(2026, 10, 26, 8, 0),
                                     Utc(2026, 11, 2, 8, 0)));
}

TEST(RecurrenceTest, TheStartIsAnOccurrenceOnlyWhenItMatches) {
  // A Tuesday start: the first Monday after it, at the start's time of day.
  const Recurrence weekly = ParseOk("FREQ=WEEKLY;BYDAY=MO", Utc(2026, 3, 24, 8, 0));
  EXPECT_EQ(weekly.After(Utc(2026, 1, 1, 0, 0)), Utc(2026, 3, 30, 7, 0));
}

TEST(RecurrenceTest, TheRuleSetsTheTimeOfDayWhenItNamesOne) {
  const Recurrence weekly =
      ParseOk("RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=30", Utc(2026, 3, 23, 0, 0));
  EXPECT_EQ(weekly.After(Utc(2026, 3, 23, 0, 0)), Utc(2026, 3, 23, 8, 30));
}

// 02:30 does not exist in Berlin on 2026-03-29: it is taken at 03:00 CEST
// (01:00 UTC), the instant the clocks jump.
TEST(RecurrenceTest, ASkippedWallClockTimeGoesToTheInstantTheClocksJump) {
  const Recurrence nightly = ParseOk("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", Utc(2026, 3, 27, 0, 0));
  EXPECT_THAT(Next(nightly, Utc(2026, 3, 27, 12, 0), 3),
              ::testing::ElementsAre(Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0),
                                     Utc(2026, 3, 30, 0, 30)));
}

// 02:30 happens twice in Berlin on 2026-10-25 (CEST, then CET): only the
// first counts.
TEST(RecurrenceTest, ARepeatedWallClockTimeHappensOnceAtTheFirst) {
  const Recurrence nightly = ParseOk("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", Utc(2026, 10, 23, 0, 0));
  EXPECT_THAT(Next(nightly, Utc(2026, 10, 23, 12, 0), 3),
              ::testing::ElementsAre(Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 25, 0, 30),
                                     Utc(2026, 10, 26, 1, 30)));
  // From between the two 02:30s, the next is the day after.
  EXPECT_EQ(nightly.After(Utc(2026, 10, 25, 1, 0)), Utc(2026, 10, 26, 1, 30));
}

TEST(RecurrenceTest, ALaterSearchAgreesWithWalkingFromTheStart) {
  // Every other Monday: a search from far on keeps the fortnight of the start.
  const Recurrence fortnightly = ParseOk("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", Utc(2026, 3, 23, 8, 0));
  std::vector<absl::Time> walked = Next(fortnightly, Utc(2026, 3, 1, 0, 0), 30);
  ASSERT_EQ(walked.size(), 30u);
  EXPECT_EQ(fortnightly.After(walked[27] - absl::Hours(1)), walked[27]);
  EXPECT_EQ(fortnightly.After(walked[27]), walked[28]);
  EXPECT_EQ(fortnightly.After(walked[27] + absl::Hours(24 * 8)), walked[28]);
}

TEST(RecurrenceTest, CountAndUntilEndTheRule) {
  const Recurrence twice = ParseOk("FREQ=WEEKLY;BYDAY=MO;COUNT=2", Utc(2026, 3, 23, 8, 0));
  EXPECT_THAT(Next(twice, Utc(2026, 3, 1, 0, 0), 5),
              ::testing::ElementsAre(Utc(2026, 3, 23, 8, 0), Utc(2026, 3, 30, 7, 0)));
  // UNTIL in UTC is an instant: 07:00 UTC on the 6th is the occurrence itself.
  const Recurrence until_utc =
      ParseOk("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260406T070000Z", Utc(2026, 3, 23, 8, 0));
  EXPECT_EQ(Next(until_utc, Utc(2026, 3, 1, 0, 0), 5).size(), 3u);
  // UNTIL as a date includes its day, on the zone's wall clock.
  const Recurrence until_date =
      ParseOk("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260330", Utc(2026, 3, 23, 8, 0));
  EXPECT_EQ(Next(until_date, Utc(2026, 3, 1, 0, 0), 5).size(), 2u);
}

TEST(RecurrenceTest, ARuleWithNoMatchingDateHasNoOccurrence) {
  // April has no 31st: libical takes the rule (as MONTHLY; it refuses the
  // YEARLY form at once) and finds nothing.
  const Recurrence never = ParseOk("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", Utc(2026, 3, 23, 8, 0));
  EXPECT_EQ(never.After(Utc(2026, 3, 1, 0, 0)), std::nullopt);
}

TEST(RecurrenceTest, ARuleThatNeverFiresIsRefused) {
  const FieldViolation v = Refusal("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
  EXPECT_EQ(v.field, "recurring_work.rrule");
  EXPECT_THAT(v.reason, HasSubstr("never fires"));
}

TEST(RecurrenceTest, BadRulesAndZonesAreRefusedNamingTheField) {
  EXPECT_EQ(Refusal("FREQ=WEEKLY;BYDAY=XX").field, "recurring_work.rrule");
  EXPECT_THAT(Refusal("every monday").reason, HasSubstr("not an RFC 5545 RRULE"));
  EXPECT_THAT(Refusal("").reason, HasSubstr("is required"));
  EXPECT_THAT(Refusal("FREQ=SECONDLY").reason, HasSubstr("SECONDLY"));
  EXPECT_THAT(Refusal("FREQ=DAILY;COUNT=20000").reason, HasSubstr("COUNT"));
  // Cron is answered with the RRULE to write.
  const FieldViolation cron = Refusal("0 9 * * 1");
  EXPECT_EQ(cron.field, "recurring_work.rrule");
  EXPECT_THAT(cron.reason, HasSubstr("cron"));
  EXPECT_THAT(cron.reason, HasSubstr("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"));
  const FieldViolation zone = Refusal("FREQ=WEEKLY", "Europe/Atlantis");
  EXPECT_EQ(zone.field, "recurring_work.time_zone");
  EXPECT_THAT(zone.reason, HasSubstr("Europe/Atlantis"));
  EXPECT_EQ(Refusal("FREQ=WEEKLY", "").field, "recurring_work.time_zone");
}

}  // namespace
}  // namespace flywheel::scheduler
