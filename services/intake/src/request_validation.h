#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "policy.h"

namespace flywheel::intake {

/// Limits every submission is held to, whatever its request type.
inline constexpr size_t kMaxIdempotencyKeyLength = 128;
inline constexpr size_t kMaxTitleLength = 200;
inline constexpr size_t kMaxDescriptionLength = 20'000;
/// The largest submission accepted, serialized (gRPC call or event payload).
inline constexpr size_t kMaxSubmissionBytes = 1024 * 1024;

/// Adds `tenant_id` violations: missing, or not a tenant of the policy.
/// Unknown tenants are INVALID_ARGUMENT on `tenant_id` for every call, so a
/// caller cannot tell another installation's tenants from typos.
void CheckTenant(const std::string& tenant_id, const Policy& policy, FieldErrors& errors);

/// Checks a spec against the policy: the common fields (title, requester,
/// due time, ...) and the form of its request type (every required field
/// present, every value of the right kind, no field the type does not
/// declare). Violations are named `spec.<path>`, `spec.fields.<key>` for form
/// values. Pure function.
void ValidateSpec(const v1::RequestSpec& spec, const Policy& policy, absl::Time now,
                  FieldErrors& errors);

/// Checks a whole SubmitRequest, including that every enum value is one the
/// contract defines (`spec.business_impact.level`, `spec.channels[1]`), and
/// reports every failing field at once as one INVALID_ARGUMENT (see
/// flywheel::FieldErrors).
absl::Status ValidateSubmit(const v1::SubmitRequestRequest& request, const Policy& policy,
                            absl::Time now);

}  // namespace flywheel::intake
