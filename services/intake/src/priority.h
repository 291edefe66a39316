#pragma once

#include <string>

#include "absl/time/time.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::intake {

/// A priority and the sentence that explains it; the reason is stored with
/// the request so nobody has to guess why work was ranked as it was.
struct PriorityAssessment {
  common::v1::Priority priority = common::v1::PRIORITY_P3;
  std::string reason;
  /// The id of the rule that decided; empty when the default applied.
  std::string rule_id;
};

/// Ranks a request by the policy's rules, in order; the first rule whose
/// conditions all hold decides, else the policy's default. Pure function.
PriorityAssessment AssessPriority(const PriorityPolicy& policy, const v1::RequestSpec& spec,
                                  absl::Time now);

/// The SLA class of a request of `type` with `priority`: the type's class,
/// made faster when the policy's `sla_by_priority` asks for it.
common::v1::SlaClass SlaClassFor(const Policy& policy, const RequestTypePolicy& type,
                                 common::v1::Priority priority);

}  // namespace flywheel::intake
