#include "recurrence.h"

#include <libical/ical.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace flywheel::scheduler {
namespace {

// The most occurrences a rule with COUNT may have: each search walks them
// from the first (libical cannot start such a rule later).
constexpr int kMaxCount = 10'000;

struct IteratorFree {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};
using Iterator = std::unique_ptr<icalrecur_iterator, IteratorFree>;

// A floating (zone-less) libical time: the iterator runs on the wall clock.
icaltimetype Floating(absl::CivilSecond t) {
  icaltimetype out = icaltime_null_time();
  out.year = static_cast<int>(t.year());
  out.month = t.month();
  out.day = t.day();
  out.hour = t.hour();
  out.minute = t.minute();
  out.second = t.second();
  out.is_date = 0;
  return out;
}

absl::CivilSecond CivilOf(const icaltimetype& t) {
  return absl::CivilSecond(t.year, t.month, t.day, t.hour, t.minute, t.second);
}

// Five or six fields without `=`: someone wrote cron.
bool LooksLikeCron(const std::string& rule) {
  if (rule.find('=') != std::string::npos) return false;
  std::vector<std::string> fields = absl::StrSplit(rule, ' ', absl::SkipWhitespace());
  return fields.size() == 5 || fields.size() == 6;
}

}  // namespace

struct Recurrence::Rule {
  icalrecurrencetype recur;
  std::optional<absl::Time> until_instant;
  std::optional<absl::CivilSecond> until_wall_clock;
};

absl::Time WallClockInstant(absl::CivilSecond local, const absl::TimeZone& zone) {
  const absl::TimeZone::TimeInfo info = zone.At(local);
  // SKIPPED: `trans` is when the clocks jumped over `local`. REPEATED: `pre`
  // is the first time the clock showed it. UNIQUE: all three are equal.
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

Recurrence::Recurrence(std::shared_ptr<const Rule> rule, absl::TimeZone zone,
                       absl::CivilSecond start)
    : rule_(std::move(rule)), zone_(zone), start_(start) {}

std::optional<Recurrence> Recurrence::Parse(const std::string& rrule, const std::string& time_zone,
                                            absl::Time start, const std::string& prefix,
                                            FieldErrors& errors) {
  const std::string rule_field = prefix + "rrule";
  bool ok = true;
  absl::TimeZone zone;
  if (time_zone.empty()) {
    errors.Add(prefix + "time_zone", "is required: the IANA zone the rule is read in");
    ok = false;
  } else if (!absl::LoadTimeZone(time_zone, &zone)) {
    errors.Add(prefix + "time_zone",
               absl::StrCat("'", time_zone, "' is not an IANA time zone, e.g. Europe/Berlin"));
    ok = false;
  }
  // The content of an RRULE property, with or without its name.
  std::string text(absl::StripAsciiWhitespace(rrule));
  if (absl::StartsWithIgnoreCase(text, "RRULE:")) text = text.substr(6);
  if (text.empty()) {
    errors.Add(rule_field, "is required: an RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO");
    return std::nullopt;
  }
  if (LooksLikeCron(text)) {
    errors.Add(rule_field,
               absl::StrCat("'", text,
                            "' looks like a cron expression; write it as an RFC 5545 RRULE, "
                            "e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0 for 0 9 * * 1"));
    return std::nullopt;
  }
  auto rule = std::make_shared<Rule>();
  rule->recur = icalrecurrencetype_from_string(text.c_str());
  icalrecurrencetype& recur = rule->recur;
  if (recur.rscale != nullptr) {
    std::free(recur.rscale);
    recur.rscale = nullptr;
    errors.Add(rule_field, "RSCALE (non-Gregorian calendars) is not supported");
    return std::nullopt;
  }
  if (recur.freq == ICAL_NO_RECURRENCE) {
    errors.Add(rule_field, absl::StrCat("'", text,
                                        "' is not an RFC 5545 RRULE that libical reads, "
                                        "e.g. FREQ=WEEKLY;BYDAY=MO"));
    return std::nullopt;
  }
  if (recur.freq == ICAL_SECONDLY_RECURRENCE) {
    errors.Add(rule_field, "FREQ=SECONDLY is not supported: work recurs at most every minute");
    return std::nullopt;
  }
  if (recur.count > kMaxCount) {
    errors.Add(rule_field, absl::StrCat("COUNT=", recur.count, " is above the most, ", kMaxCount,
                                        "; leave COUNT out for work without an end"));
    return std::nullopt;
  }
  // UNTIL is checked here, not by libical, which would compare a UTC UNTIL
  // with the floating wall-clock times as if those were UTC.
  if (!icaltime_is_null_time(recur.until)) {
    const absl::CivilSecond until = CivilOf(recur.until);
    if (recur.until.is_date) {
      rule->until_wall_clock = absl::CivilSecond(absl::CivilDay(until)) + (86'400 - 1);
    } else if (icaltime_is_utc(recur.until)) {
      rule->until_instant = absl::FromCivil(until, absl::UTCTimeZone());
    } else {
      rule->until_wall_clock = until;
    }
    recur.until = icaltime_null_time();
  }
  if (!ok) return std::nullopt;
  const absl::CivilSecond first = absl::ToCivilSecond(start, zone);
  // libical refuses impossible combinations (BYMONTH=2;BYMONTHDAY=30) here.
  Iterator probe(icalrecur_iterator_new(recur, Floating(first)));
  if (probe == nullptr) {
    errors.Add(rule_field, absl::StrCat("'", text, "' never fires (libical refuses the rule)"));
    return std::nullopt;
  }
  return Recurrence(std::move(rule), zone, first);
}

std::optional<absl::Time> Recurrence::After(absl::Time after) const {
  Iterator it(icalrecur_iterator_new(rule_->recur, Floating(start_)));
  if (it == nullptr) return std::nullopt;
  // No occurrence before `after`'s wall-clock time can come after it (a
  // skipped time maps to the jump, a repeated one to its first instant), so
  // the walk starts there; libical can do that only without COUNT.
  const absl::CivilSecond from = std::max(start_, absl::ToCivilSecond(after, zone_));
  if (rule_->recur.count == 0 && from > start_) {
    icalrecur_iterator_set_start(it.get(), Floating(from));
  }
  for (;;) {
    const icaltimetype next = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(next)) return std::nullopt;
    const absl::CivilSecond local = CivilOf(next);
    if (rule_->until_wall_clock && local > *rule_->until_wall_clock) return std::nullopt;
    const absl::Time instant = WallClockInstant(local, zone_);
    if (rule_->until_instant && instant > *rule_->until_instant) return std::nullopt;
    if (instant > after) return instant;
  }
}

}  // namespace flywheel::scheduler
