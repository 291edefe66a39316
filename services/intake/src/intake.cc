#include "intake.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_enums.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/log/log.h"
#include "flywheel/redis/script_registry.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "priority.h"
#include "request_listing.h"
#include "request_validation.h"
#include "update_mask.h"

namespace flywheel::intake {
namespace {

// How often an update or cancel re-reads and retries after a concurrent
// change it was not told to refuse.
constexpr int kCommitAttempts = 5;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp ts;
  const int64_t micros = absl::ToUnixMicros(time);
  ts.set_seconds(micros / 1'000'000);
  ts.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  return ts;
}

absl::Status StoreDown(const absl::Status& cause) {
  log::Error("request store failed", {{"error", cause.ToString()}});
  return absl::UnavailableError("the request store is unavailable; retry");
}

absl::Status NotFound(const std::string& request_id) {
  return absl::NotFoundError("request '" + request_id + "' not found");
}

bool IsOpen(v1::RequestStatus status) {
  return status == v1::REQUEST_STATUS_SUBMITTED || status == v1::REQUEST_STATUS_ACTIVE;
}

}  // namespace

std::string SpecFingerprint(const v1::RequestSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  return redis::ScriptSha1(bytes);
}

std::string DerivedEventId(const std::string& what, const std::string& request_id) {
  return "evt_" + what + "_" + request_id;
}

Intake::Intake(IntakeOptions options, const LivePolicy& policy, RequestStore& store,
               kafka::EventPublisher& publisher, IntakeMetrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      policy_(policy),
      store_(store),
      publisher_(publisher),
      metrics_(metrics),
      clock_(clock) {}

absl::Status Intake::Publish(const v1::Request& request, const PendingEvent& event) {
  auto published = publisher_.Publish({.topic = options_.requests_topic,
                                       .type = event.type,
                                       .key = request.request_id(),
                                       .data = event.data,
                                       .subject = request.request_id(),
                                       .extensions = {{"tenant", request.tenant_id()}},
                                       .id = event.id});
  if (!published.ok()) {
    log::Error("could not publish", {{"request_id", request.request_id()},
                                     {"event_id", event.id},
                                     {"error", published.status().ToString()}});
    return absl::UnavailableError(
        "the event for request '" + request.request_id() +
        "' could not be published; the change is saved and the event will be published when "
        "this call is retried");
  }
  if (absl::Status cleared =
          store_.ClearOutbox(request.tenant_id(), request.request_id(), event.id);
      !cleared.ok()) {
    // Published but still marked pending: a later call publishes it again
    // under the same id, which consumers deduplicate.
    log::Warn("could not clear outbox",
              {{"request_id", request.request_id()}, {"error", cleared.ToString()}});
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Request> Intake::LoadSettled(const std::string& tenant_id,
                                                const std::string& request_id) {
  auto stored = store_.Get(tenant_id, request_id);
  if (!stored.ok()) return StoreDown(stored.status());
  if (!stored->has_value()) return NotFound(request_id);
  StoredRequest& found = **stored;
  if (found.outbox) FLYWHEEL_RETURN_IF_ERROR(Publish(found.request, *found.outbox));
  return std::move(found.request);
}

absl::StatusOr<v1::SubmitRequestResponse> Intake::AnswerUsedKey(
    const v1::SubmitRequestRequest& request, const std::string& type_label, bool same_spec,
    const std::string& first_request_id) {
  if (!same_spec) {
    metrics_.CountSubmission(type_label, "conflict");
    return absl::AlreadyExistsError("idempotency_key '" + request.idempotency_key() +
                                    "' was already used for a different request ('" +
                                    first_request_id + "'); use a new key for new work");
  }
  auto original = LoadSettled(request.tenant_id(), first_request_id);
  if (!original.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    return original.status().code() == absl::StatusCode::kNotFound
               ? absl::UnavailableError("the original request is missing; retry")
               : original.status();
  }
  metrics_.CountSubmission(type_label, "replayed");
  v1::SubmitRequestResponse replay;
  replay.set_request_id(original->request_id());
  replay.set_priority(original->priority());
  replay.set_priority_reason(original->priority_reason());
  replay.set_sla_class(original->sla_class());
  replay.set_replayed(true);
  return replay;
}

absl::StatusOr<v1::SubmitRequestResponse> Intake::Submit(const v1::SubmitRequestRequest& request) {
  const absl::Time now = clock_.Now();
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const std::string& type_id = request.spec().request_type_id();
  const RequestTypePolicy* type = policy->FindType(type_id);
  // Only configured types become label values, so a caller cannot grow the
  // metric's label set with made-up names.
  const std::string type_label = type != nullptr ? type_id : "unknown";
  if (const size_t bytes = request.ByteSizeLong(); bytes > kMaxSubmissionBytes) {
    metrics_.CountSubmission(type_label, "invalid");
    return absl::ResourceExhaustedError(absl::StrCat(
        "the submission is ", bytes, " bytes; the limit is ", kMaxSubmissionBytes, " (1 MiB)"));
  }
  // A key already used is answered from what it created, not judged again:
  // a retry must not fail because time passed (a due date now past) or the
  // policy changed since the first attempt. Create settles that atomically
  // for a valid submission; the paths that never reach Create look first.
  // Empty when the key is unused.
  auto answer_if_used = [&]() -> std::optional<absl::StatusOr<v1::SubmitRequestResponse>> {
    if (request.tenant_id().empty() || request.idempotency_key().empty()) return std::nullopt;
    auto used = store_.FindKey(request.tenant_id(), request.idempotency_key());
    if (!used.ok()) {
      metrics_.CountSubmission(type_label, "failed");
      return StoreDown(used.status());
    }
    if (!used->has_value()) return std::nullopt;
    const bool same = (*used)->spec_fingerprint == SpecFingerprint(request.spec());
    return AnswerUsedKey(request, type_label, same, (*used)->request_id);
  };
  if (absl::Status valid = ValidateSubmit(request, *policy, now); !valid.ok()) {
    if (auto answer = answer_if_used()) return *std::move(answer);
    metrics_.CountSubmission(type_label, "invalid");
    return valid;
  }

  const PriorityAssessment priority = AssessPriority(policy->priority, request.spec(), now);
  v1::SubmitRequestResponse response;
  response.set_priority(priority.priority);
  response.set_priority_reason(priority.reason);
  response.set_sla_class(SlaClassFor(*policy, *type, priority.priority));
  if (request.validate_only()) {
    if (auto answer = answer_if_used()) return *std::move(answer);
    return response;
  }

  v1::RequestSubmitted submitted;
  const std::string request_id = NewRandomId("req");
  submitted.set_tenant_id(request.tenant_id());
  submitted.set_request_id(request_id);
  v1::Request& created = *submitted.mutable_request();
  created.set_tenant_id(request.tenant_id());
  created.set_request_id(request_id);
  *created.mutable_spec() = request.spec();
  created.set_status(v1::REQUEST_STATUS_SUBMITTED);
  created.set_priority(priority.priority);
  created.set_priority_reason(priority.reason);
  created.set_sla_class(response.sla_class());
  *created.mutable_create_time() = ToTimestamp(now);
  *created.mutable_update_time() = ToTimestamp(now);
  created.set_revision(1);
  created.set_idempotency_key(request.idempotency_key());
  created.set_workflow_template_id(type->workflow_template);
  const PendingEvent event{.id = DerivedEventId("submitted", request_id),
                           .type = events::kRequestSubmitted,
                           .data = submitted.SerializeAsString()};

  auto result =
      store_.Create(created, SpecFingerprint(request.spec()), event, options_.idempotency_ttl);
  if (!result.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    return StoreDown(result.status());
  }
  if (result->outcome != RequestStore::CreateOutcome::kCreated) {
    // Another call with the same key won the race since FindKey.
    return AnswerUsedKey(request, type_label,
                         result->outcome == RequestStore::CreateOutcome::kReplayed,
                         result->request_id);
  }
  if (absl::Status published = Publish(created, event); !published.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    return absl::UnavailableError(
        "the request could not be announced; retry with the same idempotency key");
  }
  metrics_.CountSubmission(type_label, "accepted");
  log::Info("request submitted", {{"request_id", request_id},
                                  {"tenant_id", request.tenant_id()},
                                  {"request_type", type_id},
                                  {"priority", common::v1::Priority_Name(priority.priority)}});
  response.set_request_id(request_id);
  return response;
}

absl::StatusOr<Intake::RelayReport> Intake::RelayUnannounced(absl::Duration grace, size_t limit) {
  const absl::Time now = clock_.Now();
  RelayReport report;
  for (const std::string& tenant : policy_.Get()->tenants) {
    auto pending = store_.Unannounced(tenant, now - grace, limit);
    if (!pending.ok()) return StoreDown(pending.status());
    for (const StoredRequest& stored : *pending) {
      const absl::Duration waited = now - absl::FromUnixMillis(StoredAtMillis(stored.request));
      if (Publish(stored.request, *stored.outbox).ok()) {
        ++report.relayed;
        log::Info("relayed an unannounced event",
                  {{"request_id", stored.request.request_id()},
                   {"event_id", stored.outbox->id},
                   {"waited_ms", absl::ToInt64Milliseconds(waited)}});
      } else {
        ++report.left;
        report.oldest = std::max(report.oldest, waited);
      }
    }
  }
  metrics_.RecordRelayPass(report.relayed, report.left, report.oldest);
  return report;
}

absl::StatusOr<v1::GetRequestResponse> Intake::Get(const v1::GetRequestRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  auto stored = store_.Get(request.tenant_id(), request.request_id());
  if (!stored.ok()) return StoreDown(stored.status());
  if (!stored->has_value()) return NotFound(request.request_id());
  // A read also finishes an announcement a crash left behind; the read
  // itself succeeds either way.
  if ((*stored)->outbox) (void)Publish((*stored)->request, *(*stored)->outbox);
  v1::GetRequestResponse response;
  *response.mutable_request() = std::move((*stored)->request);
  return response;
}

absl::StatusOr<v1::ListRequestsResponse> Intake::List(const v1::ListRequestsRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  CheckEnumsDefined(request, errors);  // statuses
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
  auto page = ListRequests(store_, request, clock_.Now());
  if (!page.ok() && page.status().code() == absl::StatusCode::kUnavailable) {
    return StoreDown(page.status());
  }
  return page;
}

absl::Status Intake::Commit(const v1::Request& updated, int64_t base, const PendingEvent& event,
                            bool* stale) {
  *stale = false;
  auto outcome = store_.Replace(updated, base, event);
  if (!outcome.ok()) return StoreDown(outcome.status());
  switch (*outcome) {
    case RequestStore::ReplaceOutcome::kReplaced:
      return Publish(updated, event);
    case RequestStore::ReplaceOutcome::kNotFound:
      return NotFound(updated.request_id());
    case RequestStore::ReplaceOutcome::kStale:
    case RequestStore::ReplaceOutcome::kOutboxPending:
      *stale = true;
      return absl::AbortedError("request '" + updated.request_id() + "' changed concurrently");
  }
  return absl::InternalError("unreachable");
}

absl::StatusOr<v1::UpdateRequestResponse> Intake::Update(const v1::UpdateRequestRequest& request) {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy, errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.update_mask().paths().empty()) {
    errors.Add("update_mask", "is required: name the spec paths to change");
  }
  CheckEnumsDefined(request, errors);  // spec values and priority_override
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());

  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_ASSIGN_OR_RETURN(v1::Request current,
                              LoadSettled(request.tenant_id(), request.request_id()));
    if (!IsOpen(current.status())) {
      return absl::FailedPreconditionError("request '" + request.request_id() + "' is " +
                                           v1::RequestStatus_Name(current.status()) +
                                           " and can no longer be changed");
    }
    if (request.expected_revision() != 0 && request.expected_revision() != current.revision()) {
      return absl::AbortedError(absl::StrCat("request '", request.request_id(), "' is at revision ",
                                             current.revision(), ", not ",
                                             request.expected_revision(), "; re-read it"));
    }
    const absl::Time now = clock_.Now();
    v1::Request updated = current;
    const std::vector<std::string> changed =
        ApplyUpdateMask(request.spec(), request.update_mask(), *updated.mutable_spec(), errors);
    FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());
    // Judge only what this call changes: a due date that has since passed
    // must not block an edit of the title.
    FieldErrors spec_errors;
    ValidateSpec(updated.spec(), *policy, now, spec_errors);
    for (const FieldViolation& v : spec_errors.violations()) {
      if (UnderChangedPath(v.field, changed)) errors.Add(v.field, v.reason);
    }
    FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());

    if (request.priority_override() != common::v1::PRIORITY_UNSPECIFIED) {
      updated.set_priority(request.priority_override());
      updated.set_priority_reason("set by " + (request.actor_id().empty()
                                                   ? std::string("an operator")
                                                   : request.actor_id()));
    } else {
      const PriorityAssessment priority = AssessPriority(policy->priority, updated.spec(), now);
      updated.set_priority(priority.priority);
      updated.set_priority_reason(priority.reason);
    }
    if (const RequestTypePolicy* type = policy->FindType(updated.spec().request_type_id())) {
      updated.set_sla_class(SlaClassFor(*policy, *type, updated.priority()));
    }
    updated.set_revision(current.revision() + 1);
    *updated.mutable_update_time() = ToTimestamp(now);

    v1::RequestUpdated payload;
    payload.set_tenant_id(updated.tenant_id());
    payload.set_request_id(updated.request_id());
    *payload.mutable_request() = updated;
    for (const std::string& path : changed) payload.mutable_changed_paths()->add_paths(path);
    payload.set_actor_id(request.actor_id());
    const PendingEvent event{
        .id = DerivedEventId(absl::StrCat("updated_r", updated.revision()), updated.request_id()),
        .type = events::kRequestUpdated,
        .data = payload.SerializeAsString()};
    bool stale = false;
    absl::Status committed = Commit(updated, current.revision(), event, &stale);
    if (stale && request.expected_revision() == 0 && attempt < kCommitAttempts) continue;
    FLYWHEEL_RETURN_IF_ERROR(committed);
    v1::UpdateRequestResponse response;
    *response.mutable_request() = std::move(updated);
    return response;
  }
}

absl::StatusOr<v1::CancelRequestResponse> Intake::Cancel(const v1::CancelRequestRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.reason().find_first_not_of(" \t\r\n") == std::string::npos) {
    errors.Add("reason", "is required");
  }
  FLYWHEEL_RETURN_IF_ERROR(errors.ToStatus());

  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_ASSIGN_OR_RETURN(v1::Request current,
                              LoadSettled(request.tenant_id(), request.request_id()));
    v1::CancelRequestResponse response;
    if (current.status() == v1::REQUEST_STATUS_CANCELLED) {
      *response.mutable_request() = std::move(current);
      return response;
    }
    if (!IsOpen(current.status())) {
      return absl::FailedPreconditionError("request '" + request.request_id() + "' is " +
                                           v1::RequestStatus_Name(current.status()) +
                                           " and can no longer be cancelled");
    }
    v1::Request cancelled = current;
    cancelled.set_status(v1::REQUEST_STATUS_CANCELLED);
    cancelled.set_cancel_reason(request.reason());
    cancelled.set_revision(current.revision() + 1);
    *cancelled.mutable_update_time() = ToTimestamp(clock_.Now());
    v1::RequestCancelled payload;
    payload.set_tenant_id(cancelled.tenant_id());
    payload.set_request_id(cancelled.request_id());
    payload.set_reason(request.reason());
    payload.set_actor_id(request.actor_id());
    const PendingEvent event{.id = DerivedEventId("cancelled", cancelled.request_id()),
                             .type = events::kRequestCancelled,
                             .data = payload.SerializeAsString()};
    bool stale = false;
    absl::Status committed = Commit(cancelled, current.revision(), event, &stale);
    if (stale && attempt < kCommitAttempts) continue;
    FLYWHEEL_RETURN_IF_ERROR(committed);
    log::Info("request cancelled",
              {{"request_id", cancelled.request_id()}, {"tenant_id", cancelled.tenant_id()}});
    *response.mutable_request() = std::move(cancelled);
    return response;
  }
}

}  // namespace flywheel::intake
