#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// The test fake of TimerStore, in process memory: the same outcomes as
/// RedisTimerStore, held to it by the contract suite in
/// timer_store_contract_test.cc. When more than `max` timers are due, Claim
/// takes the earliest of all. `fail_with` makes every call fail.
/// Thread-safe.
class InMemoryTimerStore final : public TimerStore {
 public:
  asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) override {
    co_return ArmNow(arm);
  }
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id) override {
    co_return CancelNow(tenant_id, timer_id);
  }
  asio::awaitable<absl::StatusOr<StoredTimer>> Pause(const std::string& tenant_id,
                                                     const std::string& timer_id,
                                                     absl::Time now) override {
    co_return PauseNow(tenant_id, timer_id, now);
  }
  asio::awaitable<absl::StatusOr<StoredTimer>> Resume(const std::string& tenant_id,
                                                      const std::string& timer_id,
                                                      const FirePoint& next,
                                                      uint32_t expected_revision) override {
    co_return ResumeNow(tenant_id, timer_id, next, expected_revision);
  }
  asio::awaitable<absl::StatusOr<std::optional<StoredTimer>>> Get(
      const std::string& tenant_id, const std::string& timer_id) override {
    co_return GetNow(tenant_id, timer_id);
  }
  asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> Claim(absl::Time now, size_t max,
                                                                   absl::Duration lease) override {
    co_return ClaimNow(now, max, lease);
  }
  asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) override {
    std::vector<absl::Status> done;
    done.reserve(batch.size());
    for (const Completion& c : batch) done.push_back(CompleteNow(*c.claimed, c.next));
    co_return done;
  }
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override {
    co_return NextDueNow();
  }

  /// How many timers are stored (paused and claimed ones included).
  size_t size() const;

  /// When not OK, every call returns it (set before the calls, from the
  /// test's thread).
  absl::Status fail_with;

 private:
  struct Entry {
    StoredTimer timer;
    /// Set while claimed: when the lease ends.
    std::optional<absl::Time> lease_until;
  };
  using Key = std::pair<std::string, std::string>;

  absl::StatusOr<StoredTimer> ArmNow(const TimerArm& arm);
  absl::StatusOr<bool> CancelNow(const std::string& tenant_id, const std::string& timer_id);
  absl::StatusOr<StoredTimer> PauseNow(const std::string& tenant_id, const std::string& timer_id,
                                       absl::Time now);
  absl::StatusOr<StoredTimer> ResumeNow(const std::string& tenant_id, const std::string& timer_id,
                                        const FirePoint& next, uint32_t expected_revision);
  absl::StatusOr<std::optional<StoredTimer>> GetNow(const std::string& tenant_id,
                                                    const std::string& timer_id);
  absl::StatusOr<std::vector<ClaimedTimer>> ClaimNow(absl::Time now, size_t max,
                                                     absl::Duration lease);
  absl::Status CompleteNow(const ClaimedTimer& claimed, const std::optional<FirePoint>& next);
  absl::StatusOr<std::optional<absl::Time>> NextDueNow();

  mutable std::mutex mu_;
  std::map<Key, Entry> timers_;
  // Revisions come from one counter, so none comes back.
  uint32_t last_revision_ = 0;
};

}  // namespace flywheel::scheduler
