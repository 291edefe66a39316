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
               outbox::Outbox& outbox, IntakeMetrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      policy_(policy),
      store_(store),
      outbox_(outbox),
      metrics_(metrics),
      clock_(clock) {}

kafka::OutgoingEvent Intake::Event(const v1::Request& request, std::string id, std::string type,
                                   const google::protobuf::Message& payload) const {
  return {.topic = options_.requests_topic,
          .type = std::move(type),
          .key = request.request_id(),
          .data = payload.SerializeAsString(),
          .subject = request.request_id(),
          .extensions = {{"tenant", request.tenant_id()}},
          .id = std::move(id)};
}

asio::awaitable<void> Intake::Announce(const v1::Request& request,
                                       const std::vector<kafka::OutgoingEvent>& events) {
  // Stored with the change, so never lost: the relay publishes what the
  // broker refuses now, and the call still succeeds.
  if (absl::Status published = co_await outbox_.Published(request.tenant_id(), events);
      !published.ok()) {
    log::Warn("change stored, its events are left to the outbox relay",
              {{"request_id", request.request_id()}, {"error", published.ToString()}});
  }
}

asio::awaitable<absl::StatusOr<v1::Request>> Intake::Load(const std::string& tenant_id,
                                                          const std::string& request_id) {
  auto stored = co_await store_.Get(tenant_id, request_id);
  if (!stored.ok()) co_return StoreDown(stored.status());
  if (!stored->has_value()) co_return NotFound(request_id);
  co_return **std::move(stored);
}

asio::awaitable<absl::StatusOr<v1::SubmitRequestResponse>> Intake::AnswerUsedKey(
    const v1::SubmitRequestRequest& request, const std::string& type_label, bool same_spec,
    const std::string& first_request_id) {
  if (!same_spec) {
    metrics_.CountSubmission(type_label, "conflict");
    co_return absl::AlreadyExistsError("idempotency_key '" + request.idempotency_key() +
                                       "' was already used for a different request ('" +
                                       first_request_id + "'); use a new key for new work");
  }
  auto original = co_await Load(request.tenant_id(), first_request_id);
  if (!original.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    co_return original.status().code() == absl::StatusCode::kNotFound
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
  co_return replay;
}

asio::awaitable<std::optional<absl::StatusOr<v1::SubmitRequestResponse>>> Intake::AnswerIfUsed(
    const v1::SubmitRequestRequest& request, const std::string& type_label) {
  if (request.tenant_id().empty() || request.idempotency_key().empty()) co_return std::nullopt;
  auto used = co_await store_.FindKey(request.tenant_id(), request.idempotency_key());
  if (!used.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    co_return StoreDown(used.status());
  }
  if (!used->has_value()) co_return std::nullopt;
  const bool same = (*used)->spec_fingerprint == SpecFingerprint(request.spec());
  co_return co_await AnswerUsedKey(request, type_label, same, (*used)->request_id);
}

asio::awaitable<absl::StatusOr<v1::SubmitRequestResponse>> Intake::Submit(
    const v1::SubmitRequestRequest& request) {
  const absl::Time now = clock_.Now();
  const std::shared_ptr<const Policy> policy = policy_.Get();
  const std::string& type_id = request.spec().request_type_id();
  const RequestTypePolicy* type = policy->FindType(type_id);
  // Only configured types become label values, so a caller cannot grow the
  // metric's label set with made-up names.
  const std::string type_label = type != nullptr ? type_id : "unknown";
  if (const size_t bytes = request.ByteSizeLong(); bytes > kMaxSubmissionBytes) {
    metrics_.CountSubmission(type_label, "invalid");
    co_return absl::ResourceExhaustedError(absl::StrCat(
        "the submission is ", bytes, " bytes; the limit is ", kMaxSubmissionBytes, " (1 MiB)"));
  }
  // A key already used is answered from what it created, not judged again:
  // a retry must not fail because time passed (a due date now past) or the
  // policy changed since the first attempt. Create settles that atomically
  // for a valid submission; the paths that never reach Create look first.

  if (absl::Status valid = ValidateSubmit(request, *policy, now); !valid.ok()) {
    if (auto answer = co_await AnswerIfUsed(request, type_label)) co_return *std::move(answer);
    metrics_.CountSubmission(type_label, "invalid");
    co_return valid;
  }

  const PriorityAssessment priority = AssessPriority(policy->priority, request.spec(), now);
  v1::SubmitRequestResponse response;
  response.set_priority(priority.priority);
  response.set_priority_reason(priority.reason);
  response.set_sla_class(SlaClassFor(*policy, *type, priority.priority));
  if (request.validate_only()) {
    if (auto answer = co_await AnswerIfUsed(request, type_label)) co_return *std::move(answer);
    co_return response;
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
  std::vector<kafka::OutgoingEvent> announce = {Event(
      created, DerivedEventId("submitted", request_id), events::kRequestSubmitted, submitted)};

  auto result = co_await store_.Create(created, SpecFingerprint(request.spec()), announce,
                                       options_.idempotency_ttl);
  if (!result.ok()) {
    metrics_.CountSubmission(type_label, "failed");
    co_return StoreDown(result.status());
  }
  if (result->outcome != RequestStore::CreateOutcome::kCreated) {
    // Another call with the same key won the race since FindKey.
    co_return co_await AnswerUsedKey(request, type_label,
                                     result->outcome == RequestStore::CreateOutcome::kReplayed,
                                     result->request_id);
  }
  co_await Announce(created, announce);
  metrics_.CountSubmission(type_label, "accepted");
  log::Info("request submitted", {{"request_id", request_id},
                                  {"tenant_id", request.tenant_id()},
                                  {"request_type", type_id},
                                  {"priority", common::v1::Priority_Name(priority.priority)}});
  response.set_request_id(request_id);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::GetRequestResponse>> Intake::Get(
    const v1::GetRequestRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Request found,
                               co_await Load(request.tenant_id(), request.request_id()));
  v1::GetRequestResponse response;
  *response.mutable_request() = std::move(found);
  co_return response;
}

asio::awaitable<absl::StatusOr<v1::ListRequestsResponse>> Intake::List(
    const v1::ListRequestsRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  CheckEnumsDefined(request, errors);  // statuses
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
  auto page = co_await ListRequests(store_, request, clock_.Now());
  if (!page.ok() && page.status().code() == absl::StatusCode::kUnavailable) {
    co_return StoreDown(page.status());
  }
  co_return page;
}

asio::awaitable<absl::StatusOr<Intake::CommitOutcome>> Intake::Commit(
    const v1::Request& updated, int64_t base, std::vector<kafka::OutgoingEvent>& events) {
  auto outcome = co_await store_.Replace(updated, base, events);
  if (!outcome.ok()) co_return StoreDown(outcome.status());
  switch (*outcome) {
    case RequestStore::ReplaceOutcome::kReplaced:
      co_await Announce(updated, events);
      co_return CommitOutcome::kDone;
    case RequestStore::ReplaceOutcome::kNotFound:
      co_return NotFound(updated.request_id());
    case RequestStore::ReplaceOutcome::kStale:
      co_return CommitOutcome::kStale;
    case RequestStore::ReplaceOutcome::kOutboxPending:
      // An earlier change's events must go out first, or this one's would
      // overtake them on the topic.
      if (absl::Status drained = co_await outbox_.Drained(updated.tenant_id()); !drained.ok()) {
        co_return absl::UnavailableError("request '" + updated.request_id() +
                                         "' has a change not announced yet and the broker is "
                                         "unavailable; retry");
      }
      co_return CommitOutcome::kRetry;
  }
  co_return absl::InternalError("unreachable");
}

asio::awaitable<absl::StatusOr<v1::UpdateRequestResponse>> Intake::Update(
    const v1::UpdateRequestRequest& request) {
  const std::shared_ptr<const Policy> policy = policy_.Get();
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy, errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.update_mask().paths().empty()) {
    errors.Add("update_mask", "is required: name the spec paths to change");
  }
  CheckEnumsDefined(request, errors);  // spec values and priority_override
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());

  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Request current,
                                 co_await Load(request.tenant_id(), request.request_id()));
    if (!IsOpen(current.status())) {
      co_return absl::FailedPreconditionError("request '" + request.request_id() + "' is " +
                                              v1::RequestStatus_Name(current.status()) +
                                              " and can no longer be changed");
    }
    if (request.expected_revision() != 0 && request.expected_revision() != current.revision()) {
      co_return absl::AbortedError(absl::StrCat("request '", request.request_id(),
                                                "' is at revision ", current.revision(), ", not ",
                                                request.expected_revision(), "; re-read it"));
    }
    const absl::Time now = clock_.Now();
    v1::Request updated = current;
    const std::vector<std::string> changed =
        ApplyUpdateMask(request.spec(), request.update_mask(), *updated.mutable_spec(), errors);
    FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());
    // Judge only what this call changes: a due date that has since passed
    // must not block an edit of the title.
    FieldErrors spec_errors;
    ValidateSpec(updated.spec(), *policy, now, spec_errors);
    for (const FieldViolation& v : spec_errors.violations()) {
      if (UnderChangedPath(v.field, changed)) errors.Add(v.field, v.reason);
    }
    FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());

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
    std::vector<kafka::OutgoingEvent> announce = {
        Event(updated,
              DerivedEventId(absl::StrCat("updated_r", updated.revision()), updated.request_id()),
              events::kRequestUpdated, payload)};
    FLYWHEEL_CO_ASSIGN_OR_RETURN(CommitOutcome committed,
                                 co_await Commit(updated, current.revision(), announce));
    if (committed != CommitOutcome::kDone) {
      const bool may_retry = committed == CommitOutcome::kRetry || request.expected_revision() == 0;
      if (may_retry && attempt < kCommitAttempts) continue;
      co_return absl::AbortedError("request '" + updated.request_id() + "' changed concurrently");
    }
    v1::UpdateRequestResponse response;
    *response.mutable_request() = std::move(updated);
    co_return response;
  }
}

asio::awaitable<absl::StatusOr<v1::CancelRequestResponse>> Intake::Cancel(
    const v1::CancelRequestRequest& request) {
  FieldErrors errors;
  CheckTenant(request.tenant_id(), *policy_.Get(), errors);
  if (request.request_id().empty()) errors.Add("request_id", "is required");
  if (request.reason().find_first_not_of(" \t\r\n") == std::string::npos) {
    errors.Add("reason", "is required");
  }
  FLYWHEEL_CO_RETURN_IF_ERROR(errors.ToStatus());

  for (int attempt = 1;; ++attempt) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Request current,
                                 co_await Load(request.tenant_id(), request.request_id()));
    v1::CancelRequestResponse response;
    if (current.status() == v1::REQUEST_STATUS_CANCELLED) {
      *response.mutable_request() = std::move(current);
      co_return response;
    }
    if (!IsOpen(current.status())) {
      co_return absl::FailedPreconditionError("request '" + request.request_id() + "' is " +
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
    std::vector<kafka::OutgoingEvent> announce = {
        Event(cancelled, DerivedEventId("cancelled", cancelled.request_id()),
              events::kRequestCancelled, payload)};
    FLYWHEEL_CO_ASSIGN_OR_RETURN(CommitOutcome committed,
                                 co_await Commit(cancelled, current.revision(), announce));
    if (committed != CommitOutcome::kDone) {
      if (attempt < kCommitAttempts) continue;
      co_return absl::AbortedError("request '" + cancelled.request_id() + "' changed concurrently");
    }
    log::Info("request cancelled",
              {{"request_id", cancelled.request_id()}, {"tenant_id", cancelled.tenant_id()}});
    *response.mutable_request() = std::move(cancelled);
    co_return response;
  }
}

}  // namespace flywheel::intake
