#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "business_calendar.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/core/field_errors.h"

namespace flywheel::scheduler {

/// One step of an escalation chain: `after` the breach, do `action` for
/// `target_role`.
struct EscalationStep {
  /// Business time after the breach, in the timer's calendar; 0 is the
  /// breach itself.
  absl::Duration after = absl::ZeroDuration();
  /// What to do: remind, notify or reassign.
  std::string action;
  /// Who it is for: owner, team_lead, manager, requester or ops_admin.
  std::string target_role;
  bool operator==(const EscalationStep&) const = default;
};

/// Steps in the order they fire (`after` never decreases).
using EscalationChain = std::vector<EscalationStep>;

/// One tenant's rules for its publishing calendar.
struct PublishingRules {
  /// Platform -> the least time between two slots on one destination of
  /// it. A destination's platform is what comes before its first ':'
  /// (`linkedin:acme-corp` is on `linkedin`), or the whole destination.
  std::map<std::string, absl::Duration> min_gap;
  /// The gap on platforms `min_gap` does not name; zero lets slots touch.
  absl::Duration default_min_gap = absl::ZeroDuration();

  /// The gap that applies on `destination`.
  absl::Duration MinGapFor(const std::string& destination) const;
};

/// The platform of `destination`: the part before its first ':', or all of it.
std::string PlatformOf(const std::string& destination);

/// One tenant's calendars, warning share, escalation chains and publishing
/// rules.
struct TenantSchedule {
  std::string id;
  /// calendar id -> calendar.
  std::map<std::string, BusinessCalendar> calendars;
  /// The calendar of timers that name none and of teams without their own.
  std::string default_calendar;
  /// team id -> calendar id, for teams that do not use the default.
  std::map<std::string, std::string> team_calendars;
  /// Share of a timer's duration after which it warns, in (0, 1); a
  /// TimerRequested with a warn_fraction of its own wins.
  double warn_share = 0.8;
  /// Chains per timer kind.
  std::map<common::v1::TimerKind, EscalationChain> escalation_by_kind;
  /// Chains per workflow stage id; a stage's chain wins over its kind's.
  std::map<std::string, EscalationChain> escalation_by_stage;
  /// Spacing between publishing slots.
  PublishingRules publishing;

  /// The calendar `calendar_id`, or the default one when it is empty; null
  /// when the tenant has no such calendar.
  const BusinessCalendar* FindCalendar(const std::string& calendar_id) const;
  /// `FindCalendar`, with "tenant ... has no calendar ..." added to
  /// `errors` under `field` when it is null.
  const BusinessCalendar* CheckCalendar(const std::string& calendar_id, std::string_view field,
                                        FieldErrors& errors) const;
  /// The calendar of `team`: its own, else the default; null only for a
  /// hand-built schedule that lacks it (a parsed one never does).
  const BusinessCalendar* CalendarOfTeam(const std::string& team) const;
  /// The chain for a timer of `kind` on `stage_id` (may be empty): the
  /// stage's, else the kind's; null when neither has one.
  const EscalationChain* FindEscalation(common::v1::TimerKind kind,
                                        const std::string& stage_id) const;
};

/// The whole scheduler policy, as parsed from one file. Immutable once
/// built; any thread.
struct Policy {
  std::map<std::string, TenantSchedule> tenants;

  /// Null when `tenant_id` is unknown.
  const TenantSchedule* FindTenant(const std::string& tenant_id) const;
  /// The tenant a request names in `field`; null, with "is required" or
  /// "is not in the scheduler's policy" added to `errors`, when there is
  /// none.
  const TenantSchedule* CheckTenant(const std::string& tenant_id, std::string_view field,
                                    FieldErrors& errors) const;
};

}  // namespace flywheel::scheduler
