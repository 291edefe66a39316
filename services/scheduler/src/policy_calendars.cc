#include "policy_calendars.h"

#include "calendar_proto.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/page_token.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

v1::BusinessCalendar ToProto(const std::string& tenant_id, const std::string& calendar_id,
                             const BusinessCalendar& calendar) {
  v1::BusinessCalendar out;
  out.set_tenant_id(tenant_id);
  out.set_calendar_id(calendar_id);
  out.set_display_name(calendar_id);
  SpecToProto(calendar.spec(), out);
  return out;
}

}  // namespace

absl::StatusOr<v1::GetBusinessCalendarResponse> PolicyCalendars::Get(
    const v1::GetBusinessCalendarRequest& request) const {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FieldErrors errors;
  const TenantSchedule* tenant = policy->CheckTenant(request.tenant_id(), "tenant_id", errors);
  const BusinessCalendar* calendar =
      tenant == nullptr ? nullptr
                        : tenant->CheckCalendar(request.calendar_id(), "calendar_id", errors);
  if (!errors.empty()) return errors.ToStatus();
  v1::GetBusinessCalendarResponse out;
  *out.mutable_calendar() = ToProto(
      tenant->id, request.calendar_id().empty() ? tenant->default_calendar : request.calendar_id(),
      *calendar);
  return out;
}

absl::StatusOr<v1::ListBusinessCalendarsResponse> PolicyCalendars::List(
    const v1::ListBusinessCalendarsRequest& request) const {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FieldErrors errors;
  const TenantSchedule* tenant = policy->CheckTenant(request.tenant_id(), "tenant_id", errors);
  if (!errors.empty()) return errors.ToStatus();
  FLYWHEEL_ASSIGN_OR_RETURN(const size_t page, PageSizeOf(request.page_size()));
  const absl::Time now = clock_.Now();
  // The cursor is the last calendar id shown.
  std::string after;
  if (!request.page_token().empty()) {
    FLYWHEEL_ASSIGN_OR_RETURN(after, DecodePageToken(request.page_token(), request, now));
  }
  v1::ListBusinessCalendarsResponse out;
  auto it = after.empty() ? tenant->calendars.begin() : tenant->calendars.upper_bound(after);
  for (; it != tenant->calendars.end() && static_cast<size_t>(out.calendars_size()) < page; ++it) {
    *out.add_calendars() = ToProto(tenant->id, it->first, it->second);
  }
  if (it != tenant->calendars.end()) {
    out.set_next_page_token(
        EncodePageToken(request, now, out.calendars(out.calendars_size() - 1).calendar_id()));
  }
  return out;
}

absl::Status PolicyCalendars::Upsert() {
  return absl::FailedPreconditionError(
      "business calendars are policy: change them in the scheduler's policy file "
      "(scheduler.policy_file), reviewed in git and checked with `flywheel-scheduler --validate`; "
      "the scheduler reloads the file when it changes");
}

}  // namespace flywheel::scheduler
