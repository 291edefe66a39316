#pragma once

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "flywheel/intake/v1/intake_service.pb.h"

namespace flywheel::intake {

/// Limits every submission is held to, whatever its request type.
inline constexpr size_t kMaxIdempotencyKeyLength = 128;
inline constexpr size_t kMaxTitleLength = 200;
inline constexpr size_t kMaxDescriptionLength = 20'000;
inline constexpr size_t kMaxFieldValueLength = 10'000;

/// Checks a SubmitRequest and reports every failing field at once as one
/// INVALID_ARGUMENT (see flywheel::FieldErrors). `known_types` are the
/// request type ids this tenant may submit; `now` judges due dates.
absl::Status ValidateSubmit(const v1::SubmitRequestRequest& request,
                            const absl::flat_hash_set<std::string>& known_types, absl::Time now);

}  // namespace flywheel::intake
