#pragma once

#include <string>

#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "request_store.h"

namespace flywheel::intake {

/// RequestStore in Redis. Keys, all under `key_prefix`:
///
///   intake:{<tenant>}:request:<request_id>  hash: data (serialized
///       v1::Request), revision
///   intake:{<tenant>}:requests              sorted set, all scores 0,
///       members IndexMember() (time-ordered), walked with ZREVRANGEBYLEX
///   outbox:{<tenant>}:...                   the tenant's outbox (RedisOutbox)
///   idempotency:{<tenant>}:<key>            hash: request_id, spec
///       (fingerprint); expires after the idempotency TTL
///
/// The hash tag is the tenant, not the request, so the keys one
/// submission writes share a Redis Cluster slot and one Lua script writes
/// them atomically. Multi-key steps are Lua scripts; nothing is written in
/// two steps. Thread-safe (connections come from the pool).
class RedisRequestStore final : public RequestStore {
 public:
  /// Writes every change's events to `outbox` in the change's own script.
  RedisRequestStore(redis::AsyncClient& redis, std::string key_prefix, outbox::RedisOutbox& outbox);

  asio::awaitable<absl::StatusOr<CreateResult>> Create(const v1::Request& request,
                                                       const std::string& spec_fingerprint,
                                                       std::vector<kafka::OutgoingEvent>& events,
                                                       absl::Duration idempotency_ttl) override;
  asio::awaitable<absl::StatusOr<std::optional<KeyUse>>> FindKey(
      const std::string& tenant_id, const std::string& idempotency_key) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::Request>>> Get(
      const std::string& tenant_id, const std::string& request_id) override;
  asio::awaitable<absl::StatusOr<ReplaceOutcome>> Replace(
      const v1::Request& updated, int64_t expected_revision,
      std::vector<kafka::OutgoingEvent>& events) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::Request>>> Scan(const std::string& tenant_id,
                                                                 const std::string& after,
                                                                 size_t limit) override;

  std::string RequestKey(const std::string& tenant_id, const std::string& request_id) const;
  std::string IndexKey(const std::string& tenant_id) const;
  std::string IdempotencyKey(const std::string& tenant_id, const std::string& key) const;

 private:
  // Runs `script` with the tenant's outbox keys and `events` after its own.
  asio::awaitable<absl::StatusOr<redis::Reply>> EvalWithEvents(
      std::string script, const std::string& tenant_id, std::vector<std::string> keys,
      std::vector<std::string> args, std::vector<kafka::OutgoingEvent>& events);

  redis::AsyncClient& redis_;
  const std::string key_prefix_;
  outbox::RedisOutbox& outbox_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::intake
