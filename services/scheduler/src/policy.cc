#include "policy.h"

#include "absl/strings/str_cat.h"

namespace flywheel::scheduler {

std::string PlatformOf(const std::string& destination) {
  return destination.substr(0, destination.find(':'));
}

absl::Duration PublishingRules::MinGapFor(const std::string& destination) const {
  auto it = min_gap.find(PlatformOf(destination));
  return it == min_gap.end() ? default_min_gap : it->second;
}

const BusinessCalendar* TenantSchedule::FindCalendar(const std::string& calendar_id) const {
  auto it = calendars.find(calendar_id.empty() ? default_calendar : calendar_id);
  return it == calendars.end() ? nullptr : &it->second;
}

const BusinessCalendar* TenantSchedule::CheckCalendar(const std::string& calendar_id,
                                                      std::string_view field,
                                                      FieldErrors& errors) const {
  const BusinessCalendar* calendar = FindCalendar(calendar_id);
  if (calendar == nullptr) {
    errors.Add(field, absl::StrCat("tenant '", id, "' has no calendar '", calendar_id, "'"));
  }
  return calendar;
}

const BusinessCalendar* TenantSchedule::CalendarOfTeam(const std::string& team) const {
  auto own = team_calendars.find(team);
  return FindCalendar(own == team_calendars.end() ? default_calendar : own->second);
}

const EscalationChain* TenantSchedule::FindEscalation(common::v1::TimerKind kind,
                                                      const std::string& stage_id) const {
  if (!stage_id.empty()) {
    if (auto it = escalation_by_stage.find(stage_id); it != escalation_by_stage.end()) {
      return &it->second;
    }
  }
  auto it = escalation_by_kind.find(kind);
  return it == escalation_by_kind.end() ? nullptr : &it->second;
}

const TenantSchedule* Policy::FindTenant(const std::string& tenant_id) const {
  auto it = tenants.find(tenant_id);
  return it == tenants.end() ? nullptr : &it->second;
}

const TenantSchedule* Policy::CheckTenant(const std::string& tenant_id, std::string_view field,
                                          FieldErrors& errors) const {
  if (tenant_id.empty()) {
    errors.Add(field, "is required");
    return nullptr;
  }
  const TenantSchedule* tenant = FindTenant(tenant_id);
  if (tenant == nullptr) {
    errors.Add(field, absl::StrCat("tenant '", tenant_id, "' is not in the scheduler's policy"));
  }
  return tenant;
}

}  // namespace flywheel::scheduler
