#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/outbox/outbox.h"
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
/// Knows nothing of gRPC; thread-safe. Every call is a coroutine: a call
/// waiting on Redis or the broker holds no thread (request_store.h).
///
/// Errors, for every call: an unknown or missing tenant and other bad input
/// are INVALID_ARGUMENT naming every failing field; a request of another
/// tenant is NOT_FOUND; the store or broker being down is UNAVAILABLE.
///
/// Each change is stored together with its events in the tenant's outbox
/// (one atomic step), then published from there. A change is done once it is
/// stored: when the broker is down the call still succeeds and the outbox
/// relay publishes its events later, with the same event ids, so consumers
/// see each at least once and deduplicate by id. A change whose request
/// still has unannounced events drains them first, so a request's events
/// keep their order.
class Intake {
 public:
  Intake(IntakeOptions options, const LivePolicy& policy, RequestStore& store,
         outbox::Outbox& outbox, IntakeMetrics& metrics, const Clock& clock);

  /// Validates, ranks, stores and publishes RequestSubmitted. Idempotent on
  /// (tenant, idempotency key): the same spec again answers the first
  /// response with `replayed` set and publishes nothing new; another spec is
  /// ALREADY_EXISTS. UNAVAILABLE when it could not be recorded: retry with
  /// the same key. A request over 1 MiB serialized is
  /// RESOURCE_EXHAUSTED, like one gRPC itself refuses for size.
  asio::awaitable<absl::StatusOr<v1::SubmitRequestResponse>> Submit(
      const v1::SubmitRequestRequest& request);

  asio::awaitable<absl::StatusOr<v1::GetRequestResponse>> Get(const v1::GetRequestRequest& request);

  /// Newest first, filtered and paged (see request_listing.h).
  asio::awaitable<absl::StatusOr<v1::ListRequestsResponse>> List(
      const v1::ListRequestsRequest& request);

  /// Changes the masked spec paths of a SUBMITTED or ACTIVE request (else
  /// FAILED_PRECONDITION), re-validates what changed, recomputes priority
  /// and SLA class (unless `priority_override`), publishes RequestUpdated.
  /// ABORTED when `expected_revision` is set and stale.
  asio::awaitable<absl::StatusOr<v1::UpdateRequestResponse>> Update(
      const v1::UpdateRequestRequest& request);

  /// Cancels and publishes RequestCancelled. Cancelling a cancelled request
  /// returns it unchanged; a completed one is FAILED_PRECONDITION.
  asio::awaitable<absl::StatusOr<v1::CancelRequestResponse>> Cancel(
      const v1::CancelRequestRequest& request);

 private:
  // The answer to a submission whose idempotency key was used before: the
  // first request again (same spec) or ALREADY_EXISTS (another spec).
  asio::awaitable<absl::StatusOr<v1::SubmitRequestResponse>> AnswerUsedKey(
      const v1::SubmitRequestRequest& request, const std::string& type_label, bool same_spec,
      const std::string& first_request_id);
  // A submission whose checks failed, or that only validates, is answered
  // from its key when the key was used: nullopt when it was not.
  asio::awaitable<std::optional<absl::StatusOr<v1::SubmitRequestResponse>>> AnswerIfUsed(
      const v1::SubmitRequestRequest& request, const std::string& type_label);
  // The request, NOT_FOUND or UNAVAILABLE.
  asio::awaitable<absl::StatusOr<v1::Request>> Load(const std::string& tenant_id,
                                                    const std::string& request_id);
  // An event about `request` on the requests topic.
  kafka::OutgoingEvent Event(const v1::Request& request, std::string id, std::string type,
                             const google::protobuf::Message& payload) const;
  // Publishes a stored change's events; a failure is left to the relay.
  asio::awaitable<void> Announce(const v1::Request& request,
                                 const std::vector<kafka::OutgoingEvent>& events);
  enum class CommitOutcome {
    kDone,
    /// The revision moved since it was read.
    kStale,
    /// Earlier events were drained; read again and retry.
    kRetry,
  };
  // Stores `updated` over revision `base` with `events`, then publishes them.
  asio::awaitable<absl::StatusOr<CommitOutcome>> Commit(const v1::Request& updated, int64_t base,
                                                        std::vector<kafka::OutgoingEvent>& events);

  IntakeOptions options_;
  const LivePolicy& policy_;
  RequestStore& store_;
  outbox::Outbox& outbox_;
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
