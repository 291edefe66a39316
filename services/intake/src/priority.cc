#include "priority.h"

namespace flywheel::intake {

PriorityAssessment AssessPriority(const v1::RequestSpec& spec, absl::Time now) {
  const v1::ImpactLevel impact = spec.business_impact().level();
  if (impact == v1::IMPACT_LEVEL_CRITICAL) {
    return {common::v1::PRIORITY_P1, "critical business impact"};
  }
  if (spec.has_due_time()) {
    const absl::Duration left = absl::FromUnixSeconds(spec.due_time().seconds()) - now;
    if (left <= absl::Hours(48)) {
      return {impact == v1::IMPACT_LEVEL_HIGH ? common::v1::PRIORITY_P1 : common::v1::PRIORITY_P2,
              "due within 48 hours"};
    }
    if (left <= absl::Hours(24 * 7) || impact == v1::IMPACT_LEVEL_HIGH) {
      return {common::v1::PRIORITY_P2,
              left <= absl::Hours(24 * 7) ? "due within 7 days" : "high business impact"};
    }
  } else if (impact == v1::IMPACT_LEVEL_HIGH) {
    return {common::v1::PRIORITY_P2, "high business impact"};
  }
  if (impact == v1::IMPACT_LEVEL_LOW) return {common::v1::PRIORITY_P4, "low business impact"};
  return {common::v1::PRIORITY_P3, "planned work with no near due date"};
}

}  // namespace flywheel::intake
