#pragma once

#include <map>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "request_store.h"

namespace flywheel::intake {

/// The test fake of RequestStore, in process memory: the same outcomes as
/// RedisRequestStore, without expiry, held to it by the contract suite in
/// request_store_contract_test.cc. Events go to the given in-memory outbox.
/// `fail_with` makes every call fail. Thread-safe.
class InMemoryRequestStore final : public RequestStore {
 public:
  explicit InMemoryRequestStore(outbox::testing::InMemoryOutbox& outbox) : outbox_(outbox) {}

  asio::awaitable<absl::StatusOr<CreateResult>> Create(const v1::Request& request,
                                                       const std::string& spec_fingerprint,
                                                       std::vector<kafka::OutgoingEvent>& events,
                                                       absl::Duration idempotency_ttl) override {
    co_return CreateNow(request, spec_fingerprint, events, idempotency_ttl);
  }
  asio::awaitable<absl::StatusOr<std::optional<KeyUse>>> FindKey(
      const std::string& tenant_id, const std::string& idempotency_key) override {
    co_return FindKeyNow(tenant_id, idempotency_key);
  }
  asio::awaitable<absl::StatusOr<std::optional<v1::Request>>> Get(
      const std::string& tenant_id, const std::string& request_id) override {
    co_return GetNow(tenant_id, request_id);
  }
  asio::awaitable<absl::StatusOr<ReplaceOutcome>> Replace(
      const v1::Request& updated, int64_t expected_revision,
      std::vector<kafka::OutgoingEvent>& events) override {
    co_return ReplaceNow(updated, expected_revision, events);
  }
  asio::awaitable<absl::StatusOr<std::vector<v1::Request>>> Scan(const std::string& tenant_id,
                                                                 const std::string& after,
                                                                 size_t limit) override {
    co_return ScanNow(tenant_id, after, limit);
  }

  /// How many requests are stored, across tenants.
  size_t size() const;

  absl::Status fail_with;

 private:
  // The operations themselves: nothing here waits.
  absl::StatusOr<CreateResult> CreateNow(const v1::Request& request,
                                         const std::string& spec_fingerprint,
                                         std::vector<kafka::OutgoingEvent>& events,
                                         absl::Duration idempotency_ttl);
  absl::StatusOr<std::optional<KeyUse>> FindKeyNow(const std::string& tenant_id,
                                                   const std::string& idempotency_key);
  absl::StatusOr<std::optional<v1::Request>> GetNow(const std::string& tenant_id,
                                                    const std::string& request_id);
  absl::StatusOr<ReplaceOutcome> ReplaceNow(const v1::Request& updated, int64_t expected_revision,
                                            std::vector<kafka::OutgoingEvent>& events);
  absl::StatusOr<std::vector<v1::Request>> ScanNow(const std::string& tenant_id,
                                                   const std::string& after, size_t limit);

  struct Idempotency {
    std::string request_id;
    std::string fingerprint;
  };
  outbox::testing::InMemoryOutbox& outbox_;
  mutable std::mutex mu_;
  // "tenant/request_id" -> request.
  absl::flat_hash_map<std::string, v1::Request> requests_;
  // "tenant/key" -> first use.
  absl::flat_hash_map<std::string, Idempotency> keys_;
  // tenant -> index member -> request id.
  absl::flat_hash_map<std::string, std::map<std::string, std::string>> index_;
};

}  // namespace flywheel::intake
