#include "submit_validator.h"

#include "absl/strings/str_join.h"
#include "flywheel/core/field_errors.h"

namespace flywheel::intake {
namespace {

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

absl::Status ValidateSubmit(const v1::SubmitRequestRequest& request,
                            const absl::flat_hash_set<std::string>& known_types, absl::Time now) {
  FieldErrors errors;
  if (request.tenant_id().empty()) errors.Add("tenant_id", "is required");
  if (request.idempotency_key().empty()) {
    errors.Add("idempotency_key", "is required");
  } else if (request.idempotency_key().size() > kMaxIdempotencyKeyLength) {
    errors.Add("idempotency_key", "must be at most 128 characters");
  }
  if (!request.has_spec()) {
    errors.Add("spec", "is required");
    return errors.ToStatus();
  }

  const v1::RequestSpec& spec = request.spec();
  if (spec.request_type_id().empty()) {
    errors.Add("spec.request_type_id", "is required");
  } else if (!known_types.contains(spec.request_type_id())) {
    std::vector<std::string> sorted(known_types.begin(), known_types.end());
    std::sort(sorted.begin(), sorted.end());
    errors.Add("spec.request_type_id", "unknown request type '" + spec.request_type_id() +
                                           "'; known: " + absl::StrJoin(sorted, ", "));
  }
  if (IsBlank(spec.title())) {
    errors.Add("spec.title", "is required");
  } else if (spec.title().size() > kMaxTitleLength) {
    errors.Add("spec.title", "must be at most 200 characters");
  }
  if (spec.description().size() > kMaxDescriptionLength) {
    errors.Add("spec.description", "must be at most 20000 characters");
  }
  if (spec.has_due_time()) {
    const absl::Time due = absl::FromUnixSeconds(spec.due_time().seconds()) +
                           absl::Nanoseconds(spec.due_time().nanos());
    if (due <= now) errors.Add("spec.due_time", "must be in the future");
  }
  if (!spec.has_requester() || spec.requester().user_id().empty()) {
    errors.Add("spec.requester.user_id", "is required");
  }
  for (const auto& [key, value] : spec.fields()) {
    if (value.size() > kMaxFieldValueLength) {
      errors.Add("spec.fields." + key, "must be at most 10000 characters");
    }
  }
  return errors.ToStatus();
}

}  // namespace flywheel::intake
