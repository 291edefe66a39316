#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::intake {

/// The order ListRequests walks a tenant's requests in: newest first, ties
/// broken by request id. Opaque to callers; comparable as bytes.
std::string IndexMember(const v1::Request& request);

/// Where intake keeps its requests, and the events each change causes: a
/// change and its events are stored in one atomic step, in the outbox of the
/// request's tenant (`outbox::Outbox`, tag = tenant id), then published from
/// there. Every operation is scoped by tenant: a request is only ever found
/// under the tenant that owns it. Failures of the backing store are
/// UNAVAILABLE. Implementations are thread-safe.
///
/// Every operation is a coroutine, so a call waiting on Redis holds no
/// thread; arguments passed by reference must live until it completes
/// (`co_await` it at once). From a thread that may block, run one with
/// `async::BlockOn`.
class RequestStore {
 public:
  enum class CreateOutcome {
    /// Stored now, with its events.
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
    /// An earlier change's events are still in the outbox; drain it first,
    /// so this change's events cannot overtake them.
    kOutboxPending,
    kNotFound,
  };

  virtual ~RequestStore() = default;

  /// Atomically: when (tenant, request.idempotency_key) is unused, records
  /// it (for `idempotency_ttl`) with `spec_fingerprint`, stores `request`
  /// and `events` and adds it to the tenant's index. Otherwise stores
  /// nothing and says whether the fingerprint matches. Events without an id
  /// or time get them here.
  virtual asio::awaitable<absl::StatusOr<CreateResult>> Create(
      const v1::Request& request, const std::string& spec_fingerprint,
      std::vector<kafka::OutgoingEvent>& events, absl::Duration idempotency_ttl) = 0;

  /// What an idempotency key was first used for.
  struct KeyUse {
    std::string request_id;
    std::string spec_fingerprint;
  };
  /// The use of (tenant, key), or nullopt when the key is unused (or expired).
  virtual asio::awaitable<absl::StatusOr<std::optional<KeyUse>>> FindKey(
      const std::string& tenant_id, const std::string& idempotency_key) = 0;

  /// The request, or nullopt when this tenant has no such request.
  virtual asio::awaitable<absl::StatusOr<std::optional<v1::Request>>> Get(
      const std::string& tenant_id, const std::string& request_id) = 0;

  /// Atomically replaces the request with `updated`, only if its revision
  /// is still `expected_revision`, and stores `events` with it. With events,
  /// an earlier change of the request whose events are still in the outbox
  /// makes it kOutboxPending; a change without events (a status routing
  /// reported) is stored regardless.
  virtual asio::awaitable<absl::StatusOr<ReplaceOutcome>> Replace(
      const v1::Request& updated, int64_t expected_revision,
      std::vector<kafka::OutgoingEvent>& events) = 0;

  /// Up to `limit` requests of the tenant in index order (newest first),
  /// starting after the index member `after` (from the start when empty).
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::Request>>> Scan(
      const std::string& tenant_id, const std::string& after, size_t limit) = 0;
};

}  // namespace flywheel::intake
