#include "priority.h"

namespace flywheel::intake {
namespace {

bool Matches(const PriorityRule& rule, const PriorityPolicy& policy, const v1::RequestSpec& spec,
             absl::Time now) {
  const v1::ImpactLevel impact = spec.business_impact().level();
  // A number the enum does not define (validation refuses it; a request
  // stored before that could hold one) counts as not stated, never as a level.
  const bool impact_stated =
      impact != v1::IMPACT_LEVEL_UNSPECIFIED && v1::ImpactLevel_IsValid(impact);
  if (rule.impact_at_least && (!impact_stated || impact < *rule.impact_at_least)) return false;
  if (rule.impact_at_most && (!impact_stated || impact > *rule.impact_at_most)) return false;
  if (rule.due_within) {
    if (!spec.has_due_time()) return false;
    const absl::Time due = absl::FromUnixSeconds(spec.due_time().seconds()) +
                           absl::Nanoseconds(spec.due_time().nanos());
    if (due - now > *rule.due_within) return false;
  }
  if (rule.requester_tier) {
    auto tier = policy.tiers.find(spec.requester().team());
    if (tier == policy.tiers.end() || tier->second != *rule.requester_tier) return false;
  }
  return true;
}

}  // namespace

PriorityAssessment AssessPriority(const PriorityPolicy& policy, const v1::RequestSpec& spec,
                                  absl::Time now) {
  for (const PriorityRule& rule : policy.rules) {
    if (Matches(rule, policy, spec, now)) return {rule.priority, rule.reason, rule.id};
  }
  return {policy.default_priority, policy.default_reason, ""};
}

common::v1::SlaClass SlaClassFor(const Policy& policy, const RequestTypePolicy& type,
                                 common::v1::Priority priority) {
  common::v1::SlaClass sla = type.sla_class;
  auto cap = policy.sla_by_priority.find(priority);
  // Lower enum values are faster classes.
  if (cap != policy.sla_by_priority.end() && cap->second < sla) sla = cap->second;
  return sla;
}

}  // namespace flywheel::intake
