#include "calendar_proto.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace flywheel::scheduler {

absl::StatusOr<CalendarSpec> SpecFromProto(const v1::BusinessCalendar& message) {
  CalendarSpec spec;
  spec.time_zone = message.time_zone();
  for (int i = 0; i < message.working_hours_size(); ++i) {
    const v1::WorkingHours& hours = message.working_hours(i);
    if (hours.day_of_week() < 1 || hours.day_of_week() > kDaysPerWeek) {
      return absl::InvalidArgumentError(absl::StrCat("working_hours[", i,
                                                     "].day_of_week: must be 1 (Monday) to 7 "
                                                     "(Sunday), got ",
                                                     hours.day_of_week()));
    }
    spec.hours[hours.day_of_week() - 1].push_back({hours.start_minute(), hours.end_minute()});
  }
  for (int i = 0; i < message.holidays_size(); ++i) {
    const common::v1::Date& date = message.holidays(i);
    const absl::CivilDay day(date.year(), date.month(), date.day());
    // CivilDay normalises 2026-02-30 to 2026-03-02; such a date is refused.
    if (date.year() < 1 || date.year() > 9999 || day.year() != date.year() ||
        day.month() != date.month() || day.day() != date.day()) {
      return absl::InvalidArgumentError(absl::StrCat("holidays[", i, "]: ", date.year(), "-",
                                                     date.month(), "-", date.day(),
                                                     " is not a date"));
    }
    spec.holidays.push_back(day);
  }
  return spec;
}

void SpecToProto(const CalendarSpec& spec, v1::BusinessCalendar& message) {
  message.set_time_zone(spec.time_zone);
  message.clear_working_hours();
  for (int d = 0; d < kDaysPerWeek; ++d) {
    for (const WorkingInterval& i : spec.hours[d]) {
      v1::WorkingHours* hours = message.add_working_hours();
      hours->set_day_of_week(d + 1);
      hours->set_start_minute(i.start_minute);
      hours->set_end_minute(i.end_minute);
    }
  }
  message.clear_holidays();
  for (absl::CivilDay day : spec.holidays) {
    common::v1::Date* date = message.add_holidays();
    date->set_year(static_cast<int32_t>(day.year()));
    date->set_month(day.month());
    date->set_day(day.day());
  }
}

}  // namespace flywheel::scheduler
