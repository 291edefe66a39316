#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "flywheel/scheduler/v1/resources.pb.h"
#include "recurring_store.h"

namespace flywheel::scheduler {

/// Recurring work in Redis. Every key of a tenant carries the tenant as
/// hash tag, so each operation is one Lua script in one cluster slot. Keys,
/// under `key_prefix`:
///
///   sched:recur:{<tenant>}:w:<recurrence_id>  hash: r the RecurringWork
///       (binary proto, without revision and next occurrence), v revision,
///       n the next occurrence (ms; absent when none is armed), f the last
///       occurrence filed (ms; absent before the first)
///   sched:recur:{<tenant>}:i                  sorted set: every id at
///       score 0, listed by id
///
/// See RecurringStore for what each operation does.
class RedisRecurringStore final : public RecurringStore {
 public:
  /// `key_prefix` goes before every key, e.g. `flywheel:`.
  RedisRecurringStore(redis::AsyncClient& redis, std::string key_prefix);

  asio::awaitable<absl::StatusOr<v1::RecurringWork>> Put(const v1::RecurringWork& work,
                                                         int64_t expected_revision) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>> Get(
      const std::string& tenant_id, const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::RecurringWork>>> List(const std::string& tenant_id,
                                                                       const std::string& after_id,
                                                                       size_t limit) override;
  asio::awaitable<absl::StatusOr<bool>> Delete(const std::string& tenant_id,
                                               const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> LastFiled(
      const std::string& tenant_id, const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<bool>> Advance(const std::string& tenant_id,
                                                const std::string& recurrence_id, absl::Time from,
                                                std::optional<absl::Time> to) override;
  asio::awaitable<absl::Status> Restore(const v1::RecurringWork& work,
                                        std::optional<absl::Time> filed) override;

  /// The key `what` of a tenant (`i`, `w:<id>`).
  std::string Key(const std::string& tenant_id, const std::string& what) const;

 private:
  asio::awaitable<absl::StatusOr<redis::Reply>> Run(const char* script,
                                                    std::vector<std::string> keys,
                                                    std::vector<std::string> args);
  // A script answering 1 (done) or 0.
  asio::awaitable<absl::StatusOr<bool>> RunForOne(const char* script, std::vector<std::string> keys,
                                                  std::vector<std::string> args);

  redis::AsyncClient& redis_;
  const std::string key_prefix_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::scheduler
