#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace flywheel::scheduler {

/// Working time on one day, [start_minute, end_minute) in minutes after local
/// midnight: 0 <= start_minute < end_minute <= 1440 (1440 is the next
/// midnight).
struct WorkingInterval {
  int start_minute = 0;
  int end_minute = 0;
  bool operator==(const WorkingInterval&) const = default;
};

/// Number of days in a week; `CalendarSpec::hours` is indexed Monday (0) to
/// Sunday (6).
inline constexpr int kDaysPerWeek = 7;

/// What a calendar is made of, as a policy file or a BusinessCalendar
/// message writes it.
struct CalendarSpec {
  /// IANA time zone, e.g. "Europe/Berlin"; the hours and holidays are local
  /// to it.
  std::string time_zone;
  /// Working intervals per day of the week, Monday first; several per day
  /// (split shifts), none for a closed day.
  std::array<std::vector<WorkingInterval>, kDaysPerWeek> hours;
  /// Local dates closed all day (public holidays, company days off).
  std::vector<absl::CivilDay> holidays;
};

/// The index of `day` in `CalendarSpec::hours`: Monday 0 ... Sunday 6.
int WeekdayIndex(absl::CivilDay day);

/// Business hours in one time zone: SLA clocks count only the time inside
/// them.
///
/// An instant is open when the wall clock of the zone at that instant shows a
/// time inside a working interval of that local day and the day is not a
/// holiday. So every operation is exact across DST changes: in the
/// spring-forward gap the clock shows no time, and in the fall-back overlap it
/// shows the repeated times twice, each counted once (a 00:00-06:00 shift on
/// the night Berlin falls back lasts 7 hours, on the night it springs forward
/// 5). Durations are real elapsed time (absl::Time differences).
///
/// Long spans are walked a run of whole weeks at a time while no holiday and
/// no UTC-offset change falls inside them, so a budget of months costs a few
/// dozen steps. Immutable and cheap to copy; any thread.
class BusinessCalendar {
 public:
  /// Checks `spec` and builds the calendar. INVALID_ARGUMENT, naming the
  /// first fault: a time zone absl cannot load, an interval out of range,
  /// empty or inverted, two intervals of one day that overlap, or no working
  /// time in the whole week (nothing could ever be counted). The intervals of
  /// a day may come in any order; duplicate holidays are fine.
  static absl::StatusOr<BusinessCalendar> Create(CalendarSpec spec);

  /// Open all day every day in UTC, with no holidays: business time is
  /// elapsed time.
  static BusinessCalendar AlwaysOpen();

  /// Whether `t` is inside working time.
  bool IsOpen(absl::Time t) const;

  /// `t` when it is open, else the next instant working time begins. Never
  /// earlier than `t`.
  absl::Time NextOpening(absl::Time t) const;

  /// The earliest instant by which `duration` of working time has passed
  /// since `start`; counting begins at `NextOpening(start)`. A duration that
  /// ends exactly at a closing time gives the closing time. `start` for a
  /// duration that is zero or negative; InfiniteFuture for an infinite one.
  absl::Time AddBusinessTime(absl::Time start, absl::Duration duration) const;

  /// Working time inside [a, b); the negative of BusinessTimeBetween(b, a)
  /// when `b` is before `a`. BusinessTimeBetween(s, AddBusinessTime(s, d))
  /// is `d` for every d > 0.
  absl::Duration BusinessTimeBetween(absl::Time a, absl::Time b) const;

  /// The spec it was built from, intervals sorted by start and holidays
  /// sorted without duplicates.
  const CalendarSpec& spec() const { return spec_; }
  /// The zone loaded from `spec().time_zone`.
  const absl::TimeZone& zone() const { return zone_; }
  /// Working time of a week with no holiday and no UTC-offset change.
  absl::Duration weekly_time() const { return weekly_; }

 private:
  // A run of time with one UTC offset: [from, until).
  struct Segment {
    absl::Duration offset;
    absl::Time until;
  };
  // Where a walk stopped and how much working time it passed.
  struct Walked {
    absl::Time at;
    absl::Duration open;
  };

  BusinessCalendar(CalendarSpec spec, absl::TimeZone zone);

  // Walks forward from `from`, not past `limit`, until `budget` of working
  // time has passed (then `at` is where it did) or, with `first_open`, until
  // the first open instant. Otherwise stops at `limit`.
  Walked Walk(absl::Time from, absl::Time limit, absl::Duration budget, bool first_open) const;
  Segment SegmentAt(absl::Time t) const;
  bool IsHoliday(absl::CivilDay day) const;
  // Whole weeks from `day` before the first holiday on or after it; -1 for
  // no holiday ahead.
  int64_t WeeksBeforeHoliday(absl::CivilDay day) const;

  CalendarSpec spec_;
  absl::TimeZone zone_;
  absl::Duration weekly_;
};

}  // namespace flywheel::scheduler
