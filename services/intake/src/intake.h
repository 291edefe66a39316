#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "flywheel/kafka/event_publisher.h"
#include "intake_metrics.h"
#include "policy.h"
#include "request_store.h"

namespace flywheel::intake {

struct IntakeOptions {
  /// Where request lifecycle events go (events::kRequestsTopic, prefixed).
  std::string requests_topic;
  /// How long an idempotency key is remembered.
  absl::Duration idempotency_ttl = absl::Hours(24 * 7);
};

/// Accepts and manages work requests: validates them against the live
/// policy, ranks them, stores them and publishes their lifecycle events.
/// Knows nothing of gRPC; thread-safe.
///
/// Errors, for every call: an unknown or missing tenant and other bad input
/// are INVALID_ARGUMENT naming every failing field; a request of another
/// tenant is NOT_FOUND; the store or broker being down is UNAVAILABLE.
///
/// Each change is stored together with its event (a one-slot outbox), then
/// published, then the outbox is cleared. An event left unpublished by a
/// crash or a broker outage is published, with the same event id, by the
/// next call about that request (a replayed submission, Get, Update,
/// Cancel) or by `RelayUnannounced`, whichever comes first, so consumers
/// see it at least once and can deduplicate by id.
class Intake {
 public:
  Intake(IntakeOptions options, const LivePolicy& policy, RequestStore& store,
         kafka::EventPublisher& publisher, IntakeMetrics& metrics, const Clock& clock);

  /// Validates, ranks, stores and publishes RequestSubmitted. Idempotent on
  /// (tenant, idempotency key): the same spec again answers the first
  /// response with `replayed` set and publishes nothing new; another spec is
  /// ALREADY_EXISTS. UNAVAILABLE when it could not be recorded or announced:
  /// retry with the same key. A request over 1 MiB serialized is
  /// RESOURCE_EXHAUSTED, like one gRPC itself refuses for size.
  absl::StatusOr<v1::SubmitRequestResponse> Submit(const v1::SubmitRequestRequest& request);

  absl::StatusOr<v1::GetRequestResponse> Get(const v1::GetRequestRequest& request);

  /// Newest first, filtered and paged (see request_listing.h).
  absl::StatusOr<v1::ListRequestsResponse> List(const v1::ListRequestsRequest& request);

  /// Changes the masked spec paths of a SUBMITTED or ACTIVE request (else
  /// FAILED_PRECONDITION), re-validates what changed, recomputes priority
  /// and SLA class (unless `priority_override`), publishes RequestUpdated.
  /// ABORTED when `expected_revision` is set and stale.
  absl::StatusOr<v1::UpdateRequestResponse> Update(const v1::UpdateRequestRequest& request);

  /// Cancels and publishes RequestCancelled. Cancelling a cancelled request
  /// returns it unchanged; a completed one is FAILED_PRECONDITION.
  absl::StatusOr<v1::CancelRequestResponse> Cancel(const v1::CancelRequestRequest& request);

  /// What one relay pass did.
  struct RelayReport {
    int relayed = 0;
    /// Found but still unpublished (the broker is down).
    int left = 0;
    /// How long the oldest event left unpublished has waited.
    absl::Duration oldest = absl::ZeroDuration();
  };
  /// Publishes the events of every tenant's outbox stored more than `grace`
  /// ago (younger ones are likely being published by the call that stored
  /// them), up to `limit` per tenant, oldest first. UNAVAILABLE when the
  /// store is down. Run periodically (intake_app) so nothing a crash left
  /// behind waits for someone to read the request.
  absl::StatusOr<RelayReport> RelayUnannounced(absl::Duration grace, size_t limit);

 private:
  // The answer to a submission whose idempotency key was used before: the
  // first request again (same spec) or ALREADY_EXISTS (another spec).
  absl::StatusOr<v1::SubmitRequestResponse> AnswerUsedKey(const v1::SubmitRequestRequest& request,
                                                          const std::string& type_label,
                                                          bool same_spec,
                                                          const std::string& first_request_id);
  // Loads the request, publishing a pending outbox event first.
  absl::StatusOr<v1::Request> LoadSettled(const std::string& tenant_id,
                                          const std::string& request_id);
  absl::Status Publish(const v1::Request& request, const PendingEvent& event);
  // Stores `updated` over revision `base` with `event`, then publishes it.
  absl::Status Commit(const v1::Request& updated, int64_t base, const PendingEvent& event,
                      bool* stale);

  IntakeOptions options_;
  const LivePolicy& policy_;
  RequestStore& store_;
  kafka::EventPublisher& publisher_;
  IntakeMetrics& metrics_;
  const Clock& clock_;
};

/// The fingerprint idempotency compares: SHA-1 of the spec's deterministic
/// serialization, as hex.
std::string SpecFingerprint(const v1::RequestSpec& spec);

/// The id of the event announcing `what` (`submitted`, `cancelled`,
/// `updated.r3`) of a request: derived, never random, so a retried publish
/// carries the same id.
std::string DerivedEventId(const std::string& what, const std::string& request_id);

}  // namespace flywheel::intake
