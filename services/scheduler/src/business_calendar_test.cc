#include "business_calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace flywheel::scheduler {
namespace {

using ::testing::HasSubstr;

constexpr int kMon = 0, kTue = 1, kWed = 2, kThu = 3, kFri = 4, kSat = 5, kSun = 6;

int Hm(int h, int m) { return h * 60 + m; }

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

// A local time that the zone shows exactly once.
absl::Time Local(const absl::TimeZone& tz, int y, int mo, int d, int h = 0, int mi = 0) {
  absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(y, mo, d, h, mi, 0));
  EXPECT_EQ(info.kind, absl::TimeZone::TimeInfo::UNIQUE) << y << "-" << mo << "-" << d;
  return info.pre;
}

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

BusinessCalendar Build(CalendarSpec spec) {
  absl::StatusOr<BusinessCalendar> calendar = BusinessCalendar::Create(std::move(spec));
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return calendar.ok() ? *calendar : BusinessCalendar::AlwaysOpen();
}

// Mon-Fri 09:00-12:30 and 13:30-17:30, as the shipped EMEA calendar.
CalendarSpec OfficeSpec(const std::string& zone, std::vector<absl::CivilDay> holidays = {}) {
  CalendarSpec spec;
  spec.time_zone = zone;
  for (int d = kMon; d <= kFri; ++d)
    spec.hours[d] = {{Hm(9, 0), Hm(12, 30)}, {Hm(13, 30), Hm(17, 30)}};
  spec.holidays = std::move(holidays);
  return spec;
}

// 00:00-06:00 every day: the night shift that DST changes lengthen or shorten.
CalendarSpec NightSpec(const std::string& zone) {
  CalendarSpec spec;
  spec.time_zone = zone;
  for (auto& day : spec.hours) day = {{0, Hm(6, 0)}};
  return spec;
}

CalendarSpec AllDaySpec(const std::string& zone) {
  CalendarSpec spec;
  spec.time_zone = zone;
  for (auto& day : spec.hours) day = {{0, Hm(24, 0)}};
  return spec;
}

class OfficeTest : public ::testing::Test {
 protected:
  absl::TimeZone berlin_ = Zone("Europe/Berlin");
  BusinessCalendar office_ = Build(OfficeSpec("Europe/Berlin"));
  absl::Time At(int y, int mo, int d, int h, int mi = 0) { return Local(berlin_, y, mo, d, h, mi); }
};

TEST_F(OfficeTest, StartInsideHoursCountsFromThere) {
  // Monday 2026-01-12.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 10), absl::Hours(1)), At(2026, 1, 12, 11));
  // Ends exactly at the lunch break: the closing time, not the reopening.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 10), absl::Minutes(150)),
            At(2026, 1, 12, 12, 30));
  // Through the lunch break.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 10), absl::Hours(3)), At(2026, 1, 12, 14));
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 10), absl::Seconds(90)),
            At(2026, 1, 12, 10) + absl::Seconds(90));
}

TEST_F(OfficeTest, StartOutsideHoursCountsFromTheNextOpening) {
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 7), absl::Hours(1)), At(2026, 1, 12, 10));
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 12, 45), absl::Hours(1)),
            At(2026, 1, 12, 14, 30));
  // The night.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 12, 18), absl::Hours(1)), At(2026, 1, 13, 10));
  // The weekend: Saturday noon.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 10, 12), absl::Hours(1)), At(2026, 1, 12, 10));
}

TEST_F(OfficeTest, NightsAndWeekendsAreSkipped) {
  // The example of the shipped policy: 4h from Friday 16:00 is Monday 11:30.
  EXPECT_EQ(office_.AddBusinessTime(At(2026, 1, 9, 16), absl::Hours(4)), At(2026, 1, 12, 11, 30));
  EXPECT_EQ(office_.BusinessTimeBetween(At(2026, 1, 9, 16), At(2026, 1, 12, 11, 30)),
            absl::Hours(4));
  // A whole week is 37.5h, whichever instant it starts from.
  EXPECT_EQ(office_.BusinessTimeBetween(At(2026, 1, 14, 15, 7), At(2026, 1, 21, 15, 7)),
            absl::Minutes(37 * 60 + 30));
  EXPECT_EQ(office_.weekly_time(), absl::Minutes(37 * 60 + 30));
  EXPECT_EQ(office_.BusinessTimeBetween(At(2026, 1, 10, 0), At(2026, 1, 12, 0)),
            absl::ZeroDuration());
  EXPECT_EQ(office_.BusinessTimeBetween(At(2026, 1, 12, 11, 30), At(2026, 1, 9, 16)),
            -absl::Hours(4));
}

TEST_F(OfficeTest, HolidaysCloseTheWholeDay) {
  BusinessCalendar easter =
      Build(OfficeSpec("Europe/Berlin", {absl::CivilDay(2026, 4, 3), absl::CivilDay(2026, 4, 6)}));
  // Thursday before Good Friday, 16:00: Friday and Easter Monday are closed.
  EXPECT_EQ(easter.AddBusinessTime(At(2026, 4, 2, 16), absl::Hours(4)), At(2026, 4, 7, 11, 30));
  EXPECT_FALSE(easter.IsOpen(At(2026, 4, 3, 10)));
  EXPECT_TRUE(office_.IsOpen(At(2026, 4, 3, 10)));
  EXPECT_EQ(easter.NextOpening(At(2026, 4, 3, 10)), At(2026, 4, 7, 9));
  // Holy week loses two days of 7.5h.
  EXPECT_EQ(easter.BusinessTimeBetween(At(2026, 3, 30, 0), At(2026, 4, 13, 0)),
            absl::Minutes(2 * (37 * 60 + 30) - 2 * (7 * 60 + 30)));
}

TEST_F(OfficeTest, IsOpenAndNextOpening) {
  EXPECT_TRUE(office_.IsOpen(At(2026, 1, 12, 9)));
  EXPECT_TRUE(office_.IsOpen(At(2026, 1, 12, 17, 29) + absl::Seconds(59)));
  EXPECT_FALSE(office_.IsOpen(At(2026, 1, 12, 17, 30)));
  EXPECT_FALSE(office_.IsOpen(At(2026, 1, 12, 12, 30)));
  EXPECT_FALSE(office_.IsOpen(At(2026, 1, 12, 8, 59)));
  EXPECT_FALSE(office_.IsOpen(At(2026, 1, 11, 11)));  // Sunday
  const absl::Time open = At(2026, 1, 12, 10) + absl::Milliseconds(5);
  EXPECT_EQ(office_.NextOpening(open), open);
  EXPECT_EQ(office_.NextOpening(At(2026, 1, 12, 12, 30)), At(2026, 1, 12, 13, 30));
  EXPECT_EQ(office_.NextOpening(At(2026, 1, 9, 17, 30)), At(2026, 1, 12, 9));
}

TEST(BusinessCalendarTest, SplitShiftsAcrossMidnight) {
  CalendarSpec spec;
  spec.time_zone = "America/New_York";
  spec.hours[kMon] = {{Hm(22, 0), Hm(24, 0)}, {Hm(6, 0), Hm(10, 0)}, {Hm(14, 0), Hm(18, 0)}};
  spec.hours[kTue] = {{0, Hm(2, 0)}};
  BusinessCalendar calendar = Build(spec);
  const absl::TimeZone ny = Zone("America/New_York");
  // Sorted by start whatever order they were given in.
  EXPECT_EQ(calendar.spec().hours[kMon].front().start_minute, Hm(6, 0));
  // Monday 2026-02-02 09:00: one hour of the morning shift, four of the
  // afternoon, two before midnight, then Tuesday's first hour.
  EXPECT_EQ(calendar.AddBusinessTime(Local(ny, 2026, 2, 2, 9), absl::Hours(8)),
            Local(ny, 2026, 2, 3, 1));
  EXPECT_TRUE(calendar.IsOpen(Local(ny, 2026, 2, 3, 0)));
  EXPECT_FALSE(calendar.IsOpen(Local(ny, 2026, 2, 3, 2)));
  EXPECT_EQ(calendar.NextOpening(Local(ny, 2026, 2, 3, 2)), Local(ny, 2026, 2, 9, 6));
  EXPECT_EQ(calendar.weekly_time(), absl::Hours(12));
}

TEST(BusinessCalendarTest, SpringForwardInBerlin) {
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  BusinessCalendar night = Build(NightSpec("Europe/Berlin"));
  BusinessCalendar all_day = Build(AllDaySpec("Europe/Berlin"));
  EXPECT_EQ(night.BusinessTimeBetween(Local(berlin, 2026, 3, 29), Local(berlin, 2026, 3, 29, 12)),
            absl::Hours(5));
  EXPECT_EQ(night.AddBusinessTime(Local(berlin, 2026, 3, 29), absl::Hours(5)),
            Utc(2026, 3, 29, 4));  // 06:00 CEST
  EXPECT_EQ(all_day.BusinessTimeBetween(Local(berlin, 2026, 3, 28), Local(berlin, 2026, 3, 30)),
            absl::Hours(47));
  // 1h after 01:30 CET is 03:30 CEST: the skipped hour does not count.
  EXPECT_EQ(all_day.AddBusinessTime(Local(berlin, 2026, 3, 29, 1, 30), absl::Hours(1)),
            Local(berlin, 2026, 3, 29, 3, 30));
  EXPECT_TRUE(all_day.IsOpen(Utc(2026, 3, 29, 1)));

  // Hours that begin in the gap begin when the clock reaches them.
  CalendarSpec gap;
  gap.time_zone = "Europe/Berlin";
  gap.hours[kSun] = {{Hm(2, 0), Hm(4, 0)}};
  BusinessCalendar sunday = Build(gap);
  EXPECT_EQ(sunday.NextOpening(Local(berlin, 2026, 3, 29, 1)), Utc(2026, 3, 29, 1));
  EXPECT_EQ(sunday.BusinessTimeBetween(Local(berlin, 2026, 3, 29), Local(berlin, 2026, 3, 30)),
            absl::Hours(1));
  EXPECT_EQ(sunday.BusinessTimeBetween(Local(berlin, 2026, 3, 22), Local(berlin, 2026, 3, 23)),
            absl::Hours(2));

  // The office's week is untouched: Friday 16:00 CET + 4h is Monday 11:30 CEST.
  BusinessCalendar office = Build(OfficeSpec("Europe/Berlin"));
  EXPECT_EQ(office.AddBusinessTime(Local(berlin, 2026, 3, 27, 16), absl::Hours(4)),
            Utc(2026, 3, 30, 9, 30));
}

TEST(BusinessCalendarTest, FallBackInBerlin) {
  // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 shows twice.
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  BusinessCalendar night = Build(NightSpec("Europe/Berlin"));
  BusinessCalendar all_day = Build(AllDaySpec("Europe/Berlin"));
  EXPECT_EQ(night.BusinessTimeBetween(Local(berlin, 2026, 10, 25), Local(berlin, 2026, 10, 25, 12)),
            absl::Hours(7));
  EXPECT_EQ(night.AddBusinessTime(Local(berlin, 2026, 10, 25), absl::Hours(7)),
            Utc(2026, 10, 25, 5));  // 06:00 CET
  EXPECT_EQ(all_day.BusinessTimeBetween(Local(berlin, 2026, 10, 24), Local(berlin, 2026, 10, 26)),
            absl::Hours(49));

  // 02:30-04:00 is worked from 02:30 CEST to 03:00 CEST, then again from
  // 02:30 CET: the clock shows 02:00-02:30 CET outside the interval.
  CalendarSpec overlap;
  overlap.time_zone = "Europe/Berlin";
  overlap.hours[kSun] = {{Hm(2, 30), Hm(4, 0)}};
  BusinessCalendar sunday = Build(overlap);
  EXPECT_TRUE(sunday.IsOpen(Utc(2026, 10, 25, 0, 45)));   // 02:45 CEST
  EXPECT_FALSE(sunday.IsOpen(Utc(2026, 10, 25, 1, 15)));  // 02:15 CET
  EXPECT_TRUE(sunday.IsOpen(Utc(2026, 10, 25, 1, 45)));   // 02:45 CET
  EXPECT_EQ(sunday.BusinessTimeBetween(Local(berlin, 2026, 10, 25), Local(berlin, 2026, 10, 26)),
            absl::Hours(2));
  EXPECT_EQ(sunday.AddBusinessTime(Utc(2026, 10, 25), absl::Hours(1)), Utc(2026, 10, 25, 2));
  EXPECT_EQ(sunday.NextOpening(Utc(2026, 10, 25, 1)), Utc(2026, 10, 25, 1, 30));
}

TEST(BusinessCalendarTest, SpringForwardAndFallBackInNewYork) {
  // 2026-03-08 02:00 EST becomes 03:00 EDT; 2026-11-01 02:00 EDT becomes 01:00 EST.
  const absl::TimeZone ny = Zone("America/New_York");
  BusinessCalendar night = Build(NightSpec("America/New_York"));
  BusinessCalendar all_day = Build(AllDaySpec("America/New_York"));
  EXPECT_EQ(all_day.BusinessTimeBetween(Local(ny, 2026, 3, 8), Local(ny, 2026, 3, 9)),
            absl::Hours(23));
  EXPECT_EQ(all_day.BusinessTimeBetween(Local(ny, 2026, 11, 1), Local(ny, 2026, 11, 2)),
            absl::Hours(25));
  EXPECT_EQ(night.BusinessTimeBetween(Local(ny, 2026, 3, 8), Local(ny, 2026, 3, 9)),
            absl::Hours(5));
  EXPECT_EQ(night.BusinessTimeBetween(Local(ny, 2026, 11, 1), Local(ny, 2026, 11, 2)),
            absl::Hours(7));
  EXPECT_EQ(night.AddBusinessTime(Local(ny, 2026, 11, 1), absl::Hours(7)), Utc(2026, 11, 1, 11));
  BusinessCalendar office = Build(OfficeSpec("America/New_York"));
  // Friday 16:00 EST (21:00 UTC) + 4h: Monday 11:30 EDT (15:30 UTC).
  EXPECT_EQ(office.AddBusinessTime(Local(ny, 2026, 3, 6, 16), absl::Hours(4)),
            Utc(2026, 3, 9, 15, 30));
  EXPECT_EQ(office.AddBusinessTime(Local(ny, 2026, 10, 30, 16), absl::Hours(4)),
            Utc(2026, 11, 2, 16, 30));
}

TEST(BusinessCalendarTest, ThirtyDayBudget) {
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  const absl::Time start = Local(berlin, 2026, 6, 1, 9);  // Monday
  EXPECT_EQ(BusinessCalendar::AlwaysOpen().AddBusinessTime(start, absl::Hours(24 * 30)),
            start + absl::Hours(24 * 30));
  // 720h of 37.5h weeks: 19 weeks and one more day (3 October 2026, a
  // holiday, is a Saturday and costs nothing).
  BusinessCalendar office = Build(OfficeSpec("Europe/Berlin", {absl::CivilDay(2026, 10, 3)}));
  EXPECT_EQ(office.AddBusinessTime(start, absl::Hours(24 * 30)),
            Local(berlin, 2026, 10, 12, 17, 30));
  // With Ascension and Whit Monday inside, two days later: 19 weeks to
  // Monday 14 September, then three more days.
  BusinessCalendar holidays = Build(
      OfficeSpec("Europe/Berlin", {absl::CivilDay(2026, 5, 14), absl::CivilDay(2026, 5, 25)}));
  const absl::Time may = Local(berlin, 2026, 5, 4, 9);
  EXPECT_EQ(holidays.AddBusinessTime(may, absl::Hours(24 * 30)),
            Local(berlin, 2026, 9, 16, 17, 30));
  EXPECT_EQ(holidays.BusinessTimeBetween(may, Local(berlin, 2026, 9, 16, 17, 30)),
            absl::Hours(24 * 30));
  // A century of office hours: still exact (5,200 weeks, every DST change).
  const absl::Duration century = office.weekly_time() * (52 * 100);
  EXPECT_EQ(office.AddBusinessTime(start, century),
            Local(berlin, 2026, 6, 1 + 52 * 100 * 7 - 3, 17, 30));
}

TEST(BusinessCalendarTest, EdgeDurations) {
  BusinessCalendar office = Build(OfficeSpec("Europe/Berlin"));
  const absl::Time saturday = Utc(2026, 1, 10, 12);
  EXPECT_EQ(office.AddBusinessTime(saturday, absl::ZeroDuration()), saturday);
  EXPECT_EQ(office.AddBusinessTime(saturday, -absl::Hours(1)), saturday);
  EXPECT_EQ(office.AddBusinessTime(saturday, absl::InfiniteDuration()), absl::InfiniteFuture());
  EXPECT_EQ(office.BusinessTimeBetween(saturday, absl::InfiniteFuture()), absl::InfiniteDuration());
  EXPECT_EQ(office.BusinessTimeBetween(saturday, saturday), absl::ZeroDuration());
}

// Working time of [a, b) by looking at every minute: the zones used have
// whole-minute offsets, so openness is the same for a whole UTC minute.
absl::Duration MinuteByMinute(const BusinessCalendar& calendar, absl::Time a, absl::Time b) {
  absl::Duration open;
  for (absl::Time t = a; t < b; t += absl::Minutes(1)) {
    if (calendar.IsOpen(t)) open += absl::Minutes(1);
  }
  return open;
}

struct Named {
  std::string name;
  BusinessCalendar calendar;
};

std::vector<Named> Calendars() {
  CalendarSpec split;
  split.time_zone = "America/New_York";
  split.hours[kMon] = {{Hm(22, 0), Hm(24, 0)}, {Hm(6, 0), Hm(10, 0)}};
  split.hours[kTue] = {{0, Hm(2, 0)}, {Hm(14, 15), Hm(18, 0)}};
  split.hours[kSun] = {{Hm(1, 30), Hm(2, 30)}};
  split.hours[kWed] = {{Hm(9, 0), Hm(9, 1)}};
  split.hours[kThu] = {{Hm(12, 0), Hm(13, 0)}};
  split.holidays = {absl::CivilDay(2026, 3, 10), absl::CivilDay(2026, 11, 3)};
  return {
      {"office",
       Build(OfficeSpec("Europe/Berlin", {absl::CivilDay(2026, 4, 3), absl::CivilDay(2026, 4, 6),
                                          absl::CivilDay(2026, 12, 25)}))},
      {"night", Build(NightSpec("Europe/Berlin"))},
      {"all_day_ny", Build(AllDaySpec("America/New_York"))},
      {"split_ny", Build(split)},
      {"office_utc", Build(OfficeSpec("UTC"))},
      {"always_open", BusinessCalendar::AlwaysOpen()},
  };
}

TEST(BusinessCalendarPropertyTest, BetweenIsTheInverseOfAdd) {
  std::mt19937_64 random(20261025);
  const absl::Time from = Utc(2025, 12, 1);
  const int64_t span = absl::ToInt64Seconds(Utc(2027, 2, 1) - from);
  for (const Named& c : Calendars()) {
    for (int i = 0; i < 500; ++i) {
      const absl::Time start = from + absl::Seconds(random() % span);
      const absl::Duration d = absl::Seconds(1 + random() % (60 * 24 * 3600));
      const absl::Time due = c.calendar.AddBusinessTime(start, d);
      ASSERT_GE(due, start) << c.name;
      ASSERT_EQ(c.calendar.BusinessTimeBetween(start, due), d) << c.name << " " << start;
      // The earliest such instant: working time right before it.
      ASSERT_TRUE(c.calendar.IsOpen(due - absl::Nanoseconds(1))) << c.name << " " << due;

      const absl::Time b = start + absl::Seconds(random() % (40 * 24 * 3600));
      const absl::Duration between = c.calendar.BusinessTimeBetween(start, b);
      const absl::Time back = c.calendar.AddBusinessTime(start, between);
      ASSERT_LE(back, b) << c.name;
      ASSERT_EQ(c.calendar.BusinessTimeBetween(back, b), absl::ZeroDuration()) << c.name;

      const absl::Time next = c.calendar.NextOpening(start);
      ASSERT_TRUE(c.calendar.IsOpen(next)) << c.name << " " << start;
      ASSERT_EQ(c.calendar.BusinessTimeBetween(start, next), absl::ZeroDuration()) << c.name;
    }
  }
}

TEST(BusinessCalendarPropertyTest, WalkAgreesWithMinuteByMinuteAroundDstChanges) {
  std::mt19937_64 random(7);
  // Days around each 2026 change in Berlin and New York, and an ordinary week.
  const absl::Time anchors[] = {Utc(2026, 3, 8), Utc(2026, 3, 29), Utc(2026, 10, 25),
                                Utc(2026, 11, 1), Utc(2026, 6, 10)};
  for (const Named& c : Calendars()) {
    for (absl::Time anchor : anchors) {
      for (int i = 0; i < 6; ++i) {
        const absl::Time a = anchor - absl::Hours(36) + absl::Minutes(random() % (72 * 60));
        const absl::Time b = a + absl::Minutes(random() % (3 * 24 * 60));
        ASSERT_EQ(c.calendar.BusinessTimeBetween(a, b), MinuteByMinute(c.calendar, a, b))
            << c.name << " " << a << " " << b;
      }
    }
  }
}

TEST(BusinessCalendarCreateTest, RefusesBadSpecs) {
  auto error = [](CalendarSpec spec) {
    absl::StatusOr<BusinessCalendar> built = BusinessCalendar::Create(std::move(spec));
    EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(built.status().message());
  };
  CalendarSpec none;
  none.time_zone = "Europe/Berlin";
  EXPECT_THAT(error(none), HasSubstr("has no working hours"));
  none.holidays = {absl::CivilDay(2026, 1, 1)};
  EXPECT_THAT(error(none), HasSubstr("has no working hours"));

  EXPECT_THAT(error(OfficeSpec("Europe/Berln")), HasSubstr("unknown time zone \"Europe/Berln\""));
  EXPECT_THAT(error(OfficeSpec("")), HasSubstr("unknown time zone \"\""));

  CalendarSpec overlap = OfficeSpec("Europe/Berlin");
  overlap.hours[kWed].push_back({Hm(12, 0), Hm(13, 0)});
  EXPECT_THAT(error(overlap), HasSubstr("wednesday: 12:00-13:00 overlaps 09:00-12:30"));

  CalendarSpec inverted = OfficeSpec("Europe/Berlin");
  inverted.hours[kSat] = {{Hm(17, 0), Hm(9, 0)}};
  EXPECT_THAT(error(inverted), HasSubstr("saturday: interval 1020-540"));
  CalendarSpec empty = OfficeSpec("Europe/Berlin");
  empty.hours[kTue] = {{Hm(9, 0), Hm(9, 0)}};
  EXPECT_THAT(error(empty), HasSubstr("tuesday"));
  CalendarSpec late = OfficeSpec("Europe/Berlin");
  late.hours[kThu] = {{Hm(9, 0), Hm(24, 1)}};
  EXPECT_THAT(error(late), HasSubstr("thursday"));
  CalendarSpec early = OfficeSpec("Europe/Berlin");
  early.hours[kMon] = {{-1, Hm(9, 0)}};
  EXPECT_THAT(error(early), HasSubstr("monday"));

  // Touching intervals and holidays given twice are fine.
  CalendarSpec touching =
      OfficeSpec("Europe/Berlin", {absl::CivilDay(2026, 1, 1), absl::CivilDay(2026, 1, 1)});
  touching.hours[kSat] = {{Hm(9, 0), Hm(12, 0)}, {Hm(12, 0), Hm(13, 0)}};
  absl::StatusOr<BusinessCalendar> built = BusinessCalendar::Create(touching);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->spec().holidays.size(), 1u);
}

TEST(BusinessCalendarTest, WeekdayIndexIsMondayFirst) {
  EXPECT_EQ(WeekdayIndex(absl::CivilDay(2026, 1, 12)), kMon);
  EXPECT_EQ(WeekdayIndex(absl::CivilDay(2026, 1, 18)), kSun);
}

}  // namespace
}  // namespace flywheel::scheduler
