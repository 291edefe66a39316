#pragma once

#include <string>

#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "request_store.h"

namespace flywheel::intake {

/// RequestStore in Redis. Keys, all under `key_prefix`:
///
///   intake:{<tenant>}:request:<request_id>  hash: data (serialized
///       v1::Request), revision, and outbox_id/outbox_type/outbox_data
///       while an event is unpublished
///   intake:{<tenant>}:requests              sorted set, all scores 0,
///       members IndexMember() (time-ordered), walked with ZREVRANGEBYLEX
///   intake:{<tenant>}:outbox                sorted set of the request ids
///       whose outbox holds an event, scored by when it was stored (ms)
///   idempotency:{<tenant>}:<key>            hash: request_id, spec
///       (fingerprint); expires after the idempotency TTL
///
/// The hash tag is the tenant, not the request, so the keys one
/// submission writes share a Redis Cluster slot and one Lua script writes
/// them atomically. Multi-key steps are Lua scripts; nothing is written in
/// two steps. Thread-safe (connections come from the pool).
class RedisRequestStore final : public RequestStore {
 public:
  RedisRequestStore(redis::Pool& pool, std::string key_prefix);

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

  std::string RequestKey(const std::string& tenant_id, const std::string& request_id) const;
  std::string IndexKey(const std::string& tenant_id) const;
  std::string IdempotencyKey(const std::string& tenant_id, const std::string& key) const;
  std::string OutboxKey(const std::string& tenant_id) const;

 private:
  redis::Pool& pool_;
  const std::string key_prefix_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::intake
