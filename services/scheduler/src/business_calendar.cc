#include "business_calendar.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace flywheel::scheduler {
namespace {

constexpr int kMinutesPerDay = 24 * 60;
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();
constexpr const char* kDayNames[kDaysPerWeek] = {"monday", "tuesday",  "wednesday", "thursday",
                                                 "friday", "saturday", "sunday"};

std::string Clock(int minute) { return absl::StrFormat("%02d:%02d", minute / 60, minute % 60); }

// Civil times are handled as absl::Time in UTC ("local as if UTC"), so that
// within one UTC offset local = absolute + offset keeps sub-second precision.
absl::Time AsUtc(absl::CivilSecond local) { return absl::FromCivil(local, absl::UTCTimeZone()); }

}  // namespace

int WeekdayIndex(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

absl::StatusOr<BusinessCalendar> BusinessCalendar::Create(CalendarSpec spec) {
  absl::TimeZone zone;
  if (spec.time_zone.empty() || !absl::LoadTimeZone(spec.time_zone, &zone)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone \"", spec.time_zone,
                                                   "\"; expected an IANA name like ",
                                                   "Europe/Berlin"));
  }
  for (int d = 0; d < kDaysPerWeek; ++d) {
    std::vector<WorkingInterval>& day = spec.hours[d];
    for (const WorkingInterval& i : day) {
      if (i.start_minute < 0 || i.end_minute > kMinutesPerDay || i.start_minute >= i.end_minute) {
        return absl::InvalidArgumentError(
            absl::StrCat(kDayNames[d], ": interval ", i.start_minute, "-", i.end_minute,
                         " (minutes) must have 0 <= start < end <= 1440"));
      }
    }
    std::sort(day.begin(), day.end(), [](const WorkingInterval& a, const WorkingInterval& b) {
      return a.start_minute < b.start_minute;
    });
    for (size_t k = 1; k < day.size(); ++k) {
      if (day[k].start_minute < day[k - 1].end_minute) {
        return absl::InvalidArgumentError(absl::StrCat(
            kDayNames[d], ": ", Clock(day[k].start_minute), "-", Clock(day[k].end_minute),
            " overlaps ", Clock(day[k - 1].start_minute), "-", Clock(day[k - 1].end_minute)));
      }
    }
  }
  std::sort(spec.holidays.begin(), spec.holidays.end());
  spec.holidays.erase(std::unique(spec.holidays.begin(), spec.holidays.end()), spec.holidays.end());
  BusinessCalendar calendar(std::move(spec), zone);
  if (calendar.weekly_ <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "has no working hours: a calendar must be open some time in the week");
  }
  return calendar;
}

BusinessCalendar BusinessCalendar::AlwaysOpen() {
  CalendarSpec spec;
  spec.time_zone = "UTC";
  for (std::vector<WorkingInterval>& day : spec.hours) day = {{0, kMinutesPerDay}};
  return BusinessCalendar(std::move(spec), absl::UTCTimeZone());
}

BusinessCalendar::BusinessCalendar(CalendarSpec spec, absl::TimeZone zone)
    : spec_(std::move(spec)), zone_(zone), weekly_(absl::ZeroDuration()) {
  for (const std::vector<WorkingInterval>& day : spec_.hours) {
    for (const WorkingInterval& i : day) weekly_ += absl::Minutes(i.end_minute - i.start_minute);
  }
}

bool BusinessCalendar::IsHoliday(absl::CivilDay day) const {
  return std::binary_search(spec_.holidays.begin(), spec_.holidays.end(), day);
}

int64_t BusinessCalendar::WeeksBeforeHoliday(absl::CivilDay day) const {
  auto next = std::lower_bound(spec_.holidays.begin(), spec_.holidays.end(), day);
  if (next == spec_.holidays.end()) return -1;
  return (*next - day) / kDaysPerWeek;
}

bool BusinessCalendar::IsOpen(absl::Time t) const {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return false;
  const absl::TimeZone::CivilInfo local = zone_.At(t);
  const absl::CivilDay day(local.cs);
  if (IsHoliday(day)) return false;
  // Seconds and below only matter against an interval's end, which is whole
  // minutes: 17:29:59.9 is inside 09:00-17:30.
  const int minute = local.cs.hour() * 60 + local.cs.minute();
  for (const WorkingInterval& i : spec_.hours[WeekdayIndex(day)]) {
    if (i.start_minute <= minute && minute < i.end_minute) return true;
  }
  return false;
}

BusinessCalendar::Segment BusinessCalendar::SegmentAt(absl::Time t) const {
  Segment segment{absl::Seconds(zone_.At(t).offset), absl::InfiniteFuture()};
  absl::TimeZone::CivilTransition transition;
  if (zone_.NextTransition(t, &transition)) segment.until = zone_.At(transition.to).trans;
  return segment;
}

BusinessCalendar::Walked BusinessCalendar::Walk(absl::Time from, absl::Time limit,
                                                absl::Duration budget, bool first_open) const {
  absl::Time t = from;
  absl::Duration open = absl::ZeroDuration();
  Segment segment = SegmentAt(t);
  while (t < limit) {
    if (t >= segment.until) segment = SegmentAt(t);
    // Within the segment, absolute = local - offset.
    const absl::Duration offset = segment.offset;
    const absl::Time end = std::min(segment.until, limit);
    auto absolute = [&](absl::CivilSecond local) { return AsUtc(local) - offset; };
    const absl::CivilDay day(absl::ToCivilSecond(t + offset, absl::UTCTimeZone()));
    const absl::Time midnight = absolute(day);

    // Whole weeks at once, from a midnight, while no holiday and no offset
    // change falls inside them and the budget outlasts them.
    if (!first_open && t == midnight) {
      int64_t weeks = kNoLimit;
      if (end != absl::InfiniteFuture()) {
        absl::Duration rest;  // IDivDuration needs somewhere to put it
        weeks = absl::IDivDuration(end - midnight, absl::Hours(24 * kDaysPerWeek), &rest);
      }
      if (const int64_t before = WeeksBeforeHoliday(day); before >= 0) {
        weeks = std::min(weeks, before);
      }
      if (budget != absl::InfiniteDuration()) {
        absl::Duration rest;
        int64_t whole = absl::IDivDuration(budget - open, weekly_, &rest);
        // A budget that ends exactly at a week's end ends at that week's last
        // closing time, so that week is walked day by day.
        if (rest == absl::ZeroDuration()) --whole;
        weeks = std::min(weeks, whole);
      }
      if (weeks > 0) {
        t = absolute(day + weeks * kDaysPerWeek);
        open += weekly_ * weeks;
        continue;
      }
    }

    if (!IsHoliday(day)) {
      for (const WorkingInterval& i : spec_.hours[WeekdayIndex(day)]) {
        const absl::Time from_here = std::max(t, absolute(absl::CivilMinute(day) + i.start_minute));
        const absl::Time to = std::min(end, absolute(absl::CivilMinute(day) + i.end_minute));
        if (from_here >= to) continue;
        if (first_open) return {from_here, open};
        if (budget - open <= to - from_here) return {from_here + (budget - open), budget};
        open += to - from_here;
      }
    }
    t = std::min(end, absolute(day + 1));
  }
  return {limit, open};
}

absl::Time BusinessCalendar::NextOpening(absl::Time t) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  return Walk(t, absl::InfiniteFuture(), absl::InfiniteDuration(), /*first_open=*/true).at;
}

absl::Time BusinessCalendar::AddBusinessTime(absl::Time start, absl::Duration duration) const {
  if (duration <= absl::ZeroDuration()) return start;
  if (duration == absl::InfiniteDuration() || start == absl::InfiniteFuture()) {
    return absl::InfiniteFuture();
  }
  if (start == absl::InfinitePast()) return start;
  return Walk(start, absl::InfiniteFuture(), duration, /*first_open=*/false).at;
}

absl::Duration BusinessCalendar::BusinessTimeBetween(absl::Time a, absl::Time b) const {
  if (b < a) return -BusinessTimeBetween(b, a);
  if (a == b) return absl::ZeroDuration();
  if (a == absl::InfinitePast() || b == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return Walk(a, b, absl::InfiniteDuration(), /*first_open=*/false).open;
}

}  // namespace flywheel::scheduler
