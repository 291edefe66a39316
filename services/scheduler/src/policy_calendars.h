#pragma once

#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"
#include "timers.h"

namespace flywheel::scheduler {

/// The business calendars of the live policy, as the API shows them. They
/// are read only: calendars are policy, edited in the policy file, reviewed
/// in git and reloaded (`Upsert` says so). Thread-safe; pure reads of the
/// policy held when called.
class PolicyCalendars {
 public:
  /// `clock` stamps page tokens.
  PolicyCalendars(const PolicyHolder& policy, const Clock& clock)
      : policy_(policy), clock_(clock) {}

  /// The calendar, `calendar_id` empty for the tenant's default.
  /// INVALID_ARGUMENT naming `tenant_id` or `calendar_id` when the policy
  /// has no such tenant or calendar.
  absl::StatusOr<v1::GetBusinessCalendarResponse> Get(
      const v1::GetBusinessCalendarRequest& request) const;

  /// The tenant's calendars in the order of their ids, paged (the
  /// convention of common.proto).
  absl::StatusOr<v1::ListBusinessCalendarsResponse> List(
      const v1::ListBusinessCalendarsRequest& request) const;

  /// FAILED_PRECONDITION, always: calendars change only through the
  /// policy file.
  static absl::Status Upsert();

 private:
  const PolicyHolder& policy_;
  const Clock& clock_;
};

}  // namespace flywheel::scheduler
