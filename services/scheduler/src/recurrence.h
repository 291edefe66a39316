#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "flywheel/core/field_errors.h"

namespace flywheel::scheduler {

/// When recurring work happens: an RFC 5545 RRULE (`FREQ=WEEKLY;BYDAY=MO`)
/// read in an IANA time zone from a first instant (its DTSTART). The rule
/// runs on the zone's wall clock, evaluated by libical's recurrence
/// iterator, so "Mondays 09:00" stays 09:00 local on both sides of a
/// daylight-saving change. The start's wall clock gives the time of day the
/// rule does not set itself (BYHOUR, BYMINUTE, BYSECOND), and the start is
/// an occurrence only when it matches the rule.
///
/// A wall-clock time the zone skips that day (02:30 on a spring-forward
/// day in Europe/Berlin) is taken at the next valid instant, the moment the
/// clocks jump (03:00 local), as cron does; RFC 5545 would read it with the
/// offset before the gap (03:30). A wall-clock time the zone shows twice
/// (02:30 on a fall-back day) happens once, at the first of the two, as
/// RFC 5545 says. Two occurrences that fall on one instant that way are one.
///
/// Cron syntax is not read: a cron-like rule is refused with the RRULE to
/// write instead. UNTIL as a UTC date-time is an instant; as a floating
/// date-time or a date, it is read on the zone's wall clock (a date
/// includes its whole day). FREQ=SECONDLY and RSCALE are refused.
///
/// Immutable and thread-safe once parsed.
class Recurrence {
 public:
  /// The rule, or nullopt with every problem added to `errors` under
  /// `prefix` + `rrule`, `time_zone` or `start_time`: an unknown zone, a
  /// rule libical cannot read or refuses (an impossible combination such
  /// as BYMONTH=2;BYMONTHDAY=30), COUNT above 10,000.
  static std::optional<Recurrence> Parse(const std::string& rrule, const std::string& time_zone,
                                         absl::Time start, const std::string& prefix,
                                         FieldErrors& errors);

  /// The first occurrence strictly after `after`; nullopt when the rule has
  /// none left (its COUNT or UNTIL is reached, or no date matches it, such
  /// as April 31st: found by searching as far as libical goes, which costs
  /// a fraction of a second).
  std::optional<absl::Time> After(absl::Time after) const;

  const absl::TimeZone& zone() const { return zone_; }

 private:
  struct Rule;
  Recurrence(std::shared_ptr<const Rule> rule, absl::TimeZone zone, absl::CivilSecond start);

  std::shared_ptr<const Rule> rule_;
  absl::TimeZone zone_;
  absl::CivilSecond start_;
};

/// The instant of wall-clock time `local` in `zone` by Recurrence's rule: a
/// skipped time is the instant the clocks jumped, a repeated one the first
/// of its two instants.
absl::Time WallClockInstant(absl::CivilSecond local, const absl::TimeZone& zone);

}  // namespace flywheel::scheduler
