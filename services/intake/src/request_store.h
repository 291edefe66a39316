#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/intake/v1/resources.pb.h"

namespace flywheel::intake {

/// An event stored with the change that caused it and not yet acknowledged
/// by the broker (a one-slot outbox). Its id is fixed when stored, so a
/// second attempt to publish it is recognised downstream as the same event.
struct PendingEvent {
  std::string id;
  /// CloudEvents type (events::kRequestSubmitted, ...).
  std::string type;
  /// Serialized payload.
  std::string data;

  bool operator==(const PendingEvent&) const = default;
};

/// A request as stored, with its unpublished event if any.
struct StoredRequest {
  v1::Request request;
  std::optional<PendingEvent> outbox;
};

/// The order ListRequests walks a tenant's requests in: newest first, ties
/// broken by request id. Opaque to callers; comparable as bytes.
std::string IndexMember(const v1::Request& request);

/// When a change of the request was stored, in Unix milliseconds: its
/// `update_time`. Orders the outbox, oldest first.
int64_t StoredAtMillis(const v1::Request& request);

/// Where intake keeps its requests. Every operation is scoped by tenant: a
/// request is only ever found under the tenant that owns it. Failures of the
/// backing store are UNAVAILABLE. Implementations are thread-safe.
class RequestStore {
 public:
  enum class CreateOutcome {
    /// Stored now, with its outbox.
    kCreated,
    /// The idempotency key was used before with the same spec fingerprint.
    kReplayed,
    /// The idempotency key was used before with a different spec.
    kConflict,
  };
  struct CreateResult {
    CreateOutcome outcome = CreateOutcome::kCreated;
    /// The new request's id, or the one the key first created.
    std::string request_id;
  };

  enum class ReplaceOutcome {
    kReplaced,
    /// The stored revision is not the expected one.
    kStale,
    /// An earlier change's event is still unpublished; publish it first.
    kOutboxPending,
    kNotFound,
  };

  virtual ~RequestStore() = default;

  /// Atomically: when (tenant, request.idempotency_key) is unused, records
  /// it (for `idempotency_ttl`) with `spec_fingerprint`, stores `request`
  /// with `event` in its outbox and adds it to the tenant's index.
  /// Otherwise stores nothing and says whether the fingerprint matches.
  virtual absl::StatusOr<CreateResult> Create(const v1::Request& request,
                                              const std::string& spec_fingerprint,
                                              const PendingEvent& event,
                                              absl::Duration idempotency_ttl) = 0;

  /// What an idempotency key was first used for.
  struct KeyUse {
    std::string request_id;
    std::string spec_fingerprint;
  };
  /// The use of (tenant, key), or nullopt when the key is unused (or expired).
  virtual absl::StatusOr<std::optional<KeyUse>> FindKey(const std::string& tenant_id,
                                                        const std::string& idempotency_key) = 0;

  /// The request, or nullopt when this tenant has no such request.
  virtual absl::StatusOr<std::optional<StoredRequest>> Get(const std::string& tenant_id,
                                                           const std::string& request_id) = 0;

  /// Atomically replaces the request with `updated`, only if its revision
  /// is still `expected_revision`. With an `event`, also puts it in the
  /// outbox, which must then be empty; without one (a change that announces
  /// nothing, such as a status routing reported) the outbox is left as it is.
  virtual absl::StatusOr<ReplaceOutcome> Replace(const v1::Request& updated,
                                                 int64_t expected_revision,
                                                 const std::optional<PendingEvent>& event) = 0;

  /// Empties the outbox if it still holds the event `event_id`.
  virtual absl::Status ClearOutbox(const std::string& tenant_id, const std::string& request_id,
                                   const std::string& event_id) = 0;

  /// Up to `limit` requests of the tenant whose outbox holds an event stored
  /// at or before `stored_before` (by the request's `update_time`), oldest
  /// first: what a crash or a broker outage left unannounced.
  virtual absl::StatusOr<std::vector<StoredRequest>> Unannounced(const std::string& tenant_id,
                                                                 absl::Time stored_before,
                                                                 size_t limit) = 0;

  /// Up to `limit` requests of the tenant in index order (newest first),
  /// starting after the index member `after` (from the start when empty).
  virtual absl::StatusOr<std::vector<v1::Request>> Scan(const std::string& tenant_id,
                                                        const std::string& after, size_t limit) = 0;
};

}  // namespace flywheel::intake
