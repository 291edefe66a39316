#pragma once

#include "absl/status/statusor.h"
#include "business_calendar.h"
#include "flywheel/scheduler/v1/resources.pb.h"

namespace flywheel::scheduler {

/// The spec a `BusinessCalendar` message describes (its zone, working hours
/// and holidays), for BusinessCalendar::Create to check further.
/// INVALID_ARGUMENT naming the field for a day_of_week outside 1..7 or a
/// holiday that is not a date. Pure; any thread.
absl::StatusOr<CalendarSpec> SpecFromProto(const v1::BusinessCalendar& message);

/// `spec`'s zone, hours (Monday first, each day's in order) and holidays
/// into `message`, replacing what it had there; tenant, id, name and
/// revision are left as they are.
void SpecToProto(const CalendarSpec& spec, v1::BusinessCalendar& message);

}  // namespace flywheel::scheduler
