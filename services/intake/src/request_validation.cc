#include "request_validation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "field_validation.h"
#include "flywheel/core/proto_enums.h"

namespace flywheel::intake {
namespace {

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

void ValidateForm(const v1::RequestSpec& spec, const RequestTypePolicy& type, absl::Time now,
                  FieldErrors& errors) {
  for (const FieldRule& rule : type.fields) {
    auto value = spec.fields().find(rule.key);
    if (value == spec.fields().end() || IsBlank(value->second)) {
      if (rule.required) errors.Add("spec.fields." + rule.key, "is required");
      continue;
    }
    if (auto problem = CheckFieldValue(rule, value->second, now)) {
      errors.Add("spec.fields." + rule.key, *problem);
    }
  }
  // Sorted, so the message order does not depend on the map's.
  std::vector<std::string> unknown;
  for (const auto& [key, value] : spec.fields()) {
    if (type.FindField(key) == nullptr) unknown.push_back(key);
  }
  std::sort(unknown.begin(), unknown.end());
  for (const std::string& key : unknown) {
    errors.Add("spec.fields." + key, "is not a field of request type '" + type.id + "'");
  }
}

}  // namespace

void CheckTenant(const std::string& tenant_id, const Policy& policy, FieldErrors& errors) {
  if (tenant_id.empty()) {
    errors.Add("tenant_id", "is required");
  } else if (!policy.tenants.contains(tenant_id)) {
    errors.Add("tenant_id", "unknown tenant '" + tenant_id + "'");
  }
}

void ValidateSpec(const v1::RequestSpec& spec, const Policy& policy, absl::Time now,
                  FieldErrors& errors) {
  if (spec.request_type_id().empty()) {
    errors.Add("spec.request_type_id", "is required");
  } else if (const RequestTypePolicy* type = policy.FindType(spec.request_type_id())) {
    ValidateForm(spec, *type, now, errors);
  } else {
    errors.Add("spec.request_type_id", "unknown request type '" + spec.request_type_id() +
                                           "'; known: " + absl::StrJoin(policy.TypeIds(), ", "));
  }
  if (IsBlank(spec.title())) {
    errors.Add("spec.title", "is required");
  } else if (spec.title().size() > kMaxTitleLength) {
    errors.Add("spec.title", absl::StrCat("must be at most ", kMaxTitleLength, " characters"));
  }
  if (spec.description().size() > kMaxDescriptionLength) {
    errors.Add("spec.description",
               absl::StrCat("must be at most ", kMaxDescriptionLength, " characters"));
  }
  if (spec.has_due_time()) {
    const absl::Time due = absl::FromUnixSeconds(spec.due_time().seconds()) +
                           absl::Nanoseconds(spec.due_time().nanos());
    if (due <= now) errors.Add("spec.due_time", "must be in the future");
  }
  if (!spec.has_requester() || IsBlank(spec.requester().user_id())) {
    errors.Add("spec.requester.user_id", "is required");
  }
}

absl::Status ValidateSubmit(const v1::SubmitRequestRequest& request, const Policy& policy,
                            absl::Time now) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), policy, errors);
  if (request.idempotency_key().empty()) {
    errors.Add("idempotency_key", "is required");
  } else if (request.idempotency_key().size() > kMaxIdempotencyKeyLength) {
    errors.Add("idempotency_key",
               absl::StrCat("must be at most ", kMaxIdempotencyKeyLength, " characters"));
  }
  if (!request.has_spec()) {
    errors.Add("spec", "is required");
  } else {
    ValidateSpec(request.spec(), policy, now, errors);
  }
  // Refused, never ranked: a level the contract does not define must not
  // become a priority.
  CheckEnumsDefined(request, errors);
  return errors.ToStatus();
}

}  // namespace flywheel::intake
