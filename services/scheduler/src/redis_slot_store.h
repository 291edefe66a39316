#pragma once

#include <memory>
#include <string>

#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "slot_store.h"

namespace flywheel::scheduler {

/// SlotStore in Redis. Every key of a tenant carries the tenant as hash
/// tag, so each operation is one Lua script in one cluster slot. Keys,
/// under `key_prefix`:
///
///   sched:slots:{<tenant>}:s:<slot_id>   hash: r the PublishingSlot
///       (binary proto), v revision, m publish time (ms), d destination,
///       c channel, st status: the fields the scripts read
///   sched:slots:{<tenant>}:d:<destination>  sorted set: the destination's
///       occupying slots (reserved, due, published) by publish time (ms);
///       the spacing check is a range read of it around the new time
///   sched:slots:{<tenant>}:t             sorted set: every slot by publish
///       time (ms), for the calendar view and a blackout's held slots
///   sched:slots:{<tenant>}:b             hash: blackout id -> Blackout
///   sched:slots:{<tenant>}:bx            hash: blackout id -> JSON
///       {s, e, c, d} (start and end ms, channels, destinations): what the
///       scripts match slots against
///   sched:slots:{<tenant>}:a             hash: request id -> 1, requests
///       whose approval completed as APPROVED
///
/// Slots are never removed (cancelled ones stay listed); nothing expires
/// yet. Thread-safe.
class RedisSlotStore final : public SlotStore {
 public:
  /// `key_prefix` goes before every key, e.g. `flywheel:`.
  RedisSlotStore(redis::AsyncClient& redis, std::string key_prefix);

  asio::awaitable<absl::StatusOr<Obstacles>> Check(const v1::PublishingSlot& slot,
                                                   absl::Duration min_gap) override;
  asio::awaitable<absl::StatusOr<PutOutcome>> Put(const v1::PublishingSlot& slot,
                                                  int64_t expected_revision,
                                                  std::optional<absl::Duration> check_gap) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> Get(
      const std::string& tenant_id, const std::string& slot_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> List(
      const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
      const std::string& after_id, size_t limit) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> OnDestination(
      const std::string& tenant_id, const std::string& destination, absl::Time from,
      absl::Time to) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> PutBlackout(
      const v1::Blackout& blackout) override;
  asio::awaitable<absl::StatusOr<bool>> DeleteBlackout(const std::string& tenant_id,
                                                       const std::string& blackout_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> Blackouts(
      const std::string& tenant_id) override;
  asio::awaitable<absl::Status> SetApproved(const std::string& tenant_id,
                                            const std::string& request_id,
                                            std::optional<uint32_t> version) override;
  asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> ApprovedVersion(
      const std::string& tenant_id, const std::string& request_id) override;

  /// The key `what` of a tenant (`t`, `b`, `s:<slot_id>`, ...).
  std::string Key(const std::string& tenant_id, const std::string& what) const;

 private:
  asio::awaitable<absl::StatusOr<redis::Reply>> Run(const char* script,
                                                    std::vector<std::string> keys,
                                                    std::vector<std::string> args);

  redis::AsyncClient& redis_;
  const std::string key_prefix_;
  redis::ScriptRegistry scripts_;
};

}  // namespace flywheel::scheduler
