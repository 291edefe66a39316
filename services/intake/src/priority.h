#pragma once

#include <string>

#include "absl/time/time.h"
#include "flywheel/common/v1/common.pb.h"
#include "flywheel/intake/v1/resources.pb.h"

namespace flywheel::intake {

/// A priority and the sentence that explains it; the reason is stored with
/// the request so nobody has to guess why work was ranked as it was.
struct PriorityAssessment {
  common::v1::Priority priority = common::v1::PRIORITY_P3;
  std::string reason;
};

/// Ranks a request by due-date proximity and business impact. The full rule
/// set (requester tier, per-tenant rules as config) is the intake issue's;
/// this is the foundation's fixed baseline.
PriorityAssessment AssessPriority(const v1::RequestSpec& spec, absl::Time now);

}  // namespace flywheel::intake
