#pragma once

#include <map>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "request_store.h"

namespace flywheel::intake {

/// A RequestStore in process memory, for unit tests: the same outcomes as
/// RedisRequestStore, without expiry. `fail_with` makes every call fail.
/// Thread-safe.
class InMemoryRequestStore final : public RequestStore {
 public:
  absl::StatusOr<CreateResult> Create(const v1::Request& request,
                                      const std::string& spec_fingerprint,
                                      const PendingEvent& event,
                                      absl::Duration idempotency_ttl) override;
  absl::StatusOr<std::optional<KeyUse>> FindKey(const std::string& tenant_id,
                                                const std::string& idempotency_key) override;
  absl::StatusOr<std::optional<StoredRequest>> Get(const std::string& tenant_id,
                                                   const std::string& request_id) override;
  absl::StatusOr<ReplaceOutcome> Replace(const v1::Request& updated, int64_t expected_revision,
                                         const std::optional<PendingEvent>& event) override;
  absl::Status ClearOutbox(const std::string& tenant_id, const std::string& request_id,
                           const std::string& event_id) override;
  absl::StatusOr<std::vector<v1::Request>> Scan(const std::string& tenant_id,
                                                const std::string& after, size_t limit) override;
  absl::StatusOr<std::vector<StoredRequest>> Unannounced(const std::string& tenant_id,
                                                         absl::Time stored_before,
                                                         size_t limit) override;

  /// How many requests are stored, across tenants.
  size_t size() const;

  absl::Status fail_with;

 private:
  struct Idempotency {
    std::string request_id;
    std::string fingerprint;
  };
  mutable std::mutex mu_;
  // "tenant/request_id" -> request.
  absl::flat_hash_map<std::string, StoredRequest> requests_;
  // "tenant/key" -> first use.
  absl::flat_hash_map<std::string, Idempotency> keys_;
  // tenant -> index member -> request id.
  absl::flat_hash_map<std::string, std::map<std::string, std::string>> index_;
};

}  // namespace flywheel::intake
