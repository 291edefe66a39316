#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "flywheel/redis/async_client.h"
#include "flywheel/redis/script_registry.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// How RedisTimerStore lays its timers out. Both counts are part of the
/// data's layout: a timer's shard and bucket come from its id, so every
/// replica must use the same counts, and changing them strands the timers
/// already stored.
struct RedisTimerStoreOptions {
  /// Put before every key, e.g. `flywheel:`. Without `{`: a hash tag in it
  /// would put every shard in one cluster slot (tests' prefixes do that on
  /// purpose; one server does not care).
  std::string key_prefix;
  /// Hash-tagged shards, each in one Redis Cluster slot (1 to 65536).
  uint32_t shards = 16;
  /// Buckets per shard (1 to 65536). Keep about 30 timers per bucket at the
  /// expected count (the default fits a million): a bucket is two small
  /// structures Redis keeps compact (listpack) up to 128 entries.
  uint32_t buckets_per_shard = 2048;
  /// Keep the index of each request's timers (`OfRequest`), written in the
  /// same script as the timer it names. Publish points (a slot's timer) are
  /// not indexed: a request's SLA timers are what it lists and pauses.
  bool index_requests = false;
};

/// TimerStore in Redis. A timer lives in one shard and one bucket of it,
/// both from a stable hash of tenant and timer id; its member is the first
/// 12 bytes of that hash (SHA-256). Keys, under `key_prefix`:
///
///   sched:{<shard>}:t:<bucket>  hash: member -> the timer's record, cut
///       into pieces of at most 63 bytes (member, member+"\x01", ...) so
///       the hash stays listpack-encoded
///   sched:{<shard>}:d:<bucket>  sorted set: member by due time (ms) of
///       its next point, for running timers that are not claimed
///   sched:{<shard>}:h           sorted set: bucket by the earliest due
///       time in its `d` set (the heads, merged by Claim)
///   sched:{<shard>}:l           sorted set: claimed member by lease end
///   sched:{<shard>}:n           counter giving revisions (lease tokens)
///   sched:{<shard>}:r:<rbucket> with `index_requests`: sorted set (every
///       score 0, so ordered by member) of `<tenant> NUL <request> NUL
///       <timer>` for the shard's timers, a request's rbucket one of 256
///       by a hash of tenant and request
///
/// Every key of a shard carries the shard's hash tag, so each operation is
/// one Lua script in one cluster slot (a batch of completions: one per
/// shard it touches). Thread-safe.
class RedisTimerStore final : public TimerStore {
 public:
  /// INVALID_ARGUMENT for counts out of range.
  static absl::StatusOr<std::unique_ptr<RedisTimerStore>> Create(redis::AsyncClient& redis,
                                                                 RedisTimerStoreOptions options);

  asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) override;
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id) override;
  asio::awaitable<absl::StatusOr<StoredTimer>> Pause(const std::string& tenant_id,
                                                     const std::string& timer_id,
                                                     absl::Time now) override;
  asio::awaitable<absl::StatusOr<StoredTimer>> Resume(const std::string& tenant_id,
                                                      const std::string& timer_id,
                                                      const FirePoint& next,
                                                      uint32_t expected_revision) override;
  asio::awaitable<absl::StatusOr<std::optional<StoredTimer>>> Get(
      const std::string& tenant_id, const std::string& timer_id) override;
  asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> Claim(absl::Time now, size_t max,
                                                                   absl::Duration lease) override;
  asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) override;
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override;

  /// With `index_requests`: the ids of the request's timers in byte order,
  /// those after `after` (all when it is empty), at most `limit`. Asks
  /// every shard at once. An id may name a timer that is gone (cancelled
  /// by a store without the index); readers skip those.
  /// FAILED_PRECONDITION without `index_requests`.
  asio::awaitable<absl::StatusOr<std::vector<std::string>>> OfRequest(const std::string& tenant_id,
                                                                      const std::string& request_id,
                                                                      const std::string& after,
                                                                      size_t limit);

  /// Where a timer lives: its shard, bucket and member.
  struct Slot {
    uint32_t shard = 0;
    uint32_t bucket = 0;
    std::string member;
  };
  Slot SlotOf(const std::string& tenant_id, const std::string& timer_id) const;
  /// The key `what` (`t`, `d`: with a bucket; `h`, `l`, `n`: without) of a
  /// shard.
  std::string ShardKey(uint32_t shard, const std::string& what) const;
  std::string BucketKey(uint32_t shard, const std::string& what, uint32_t bucket) const;

 private:
  RedisTimerStore(redis::AsyncClient& redis, RedisTimerStoreOptions options);

  // Runs `script` for one timer: KEYS heads, lease, counter, due set, hash,
  // and with `request_id` the request's index set; ARGV member, bucket,
  // name, then `args`, then with `request_id` the index member.
  asio::awaitable<absl::StatusOr<redis::Reply>> RunForTimer(
      const char* script, const std::string& tenant_id, const std::string& timer_id,
      std::vector<std::string> args, const std::string* request_id = nullptr);
  // Whether a timer at `point` has an index entry.
  bool Indexed(const FirePoint& point) const;
  // One shard's part of CompleteAll: the completions `at` of `batch`.
  asio::awaitable<std::vector<absl::Status>> CompleteInShard(uint32_t shard,
                                                             const std::vector<Completion>& batch,
                                                             const std::vector<size_t>& at);

  redis::AsyncClient& redis_;
  const RedisTimerStoreOptions options_;
  redis::ScriptRegistry scripts_;
  // Where the next Claim starts, so no shard is always served last.
  std::atomic<uint32_t> next_shard_{0};
};

}  // namespace flywheel::scheduler
