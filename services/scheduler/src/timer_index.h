#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/redis/async_client.h"
#include "forwarding_timer_store.h"

namespace flywheel::scheduler {

/// Which timers each request has, in Redis beside the timer store: sorted
/// sets `<prefix>sched:req:<bucket>` (every score 0, so ordered by member)
/// of `<tenant> NUL <request> NUL <timer>`, a request's bucket one of 4,096
/// by a hash of tenant and request, so each set stays small. An entry may
/// outlive its timer (a failure between the two writes); readers skip and
/// drop such entries. Thread-safe; coroutines on the caller's executor.
class TimerIndex {
 public:
  TimerIndex(redis::AsyncClient& redis, std::string key_prefix);

  asio::awaitable<absl::Status> Add(const std::string& tenant_id, const std::string& request_id,
                                    const std::string& timer_id);
  asio::awaitable<absl::Status> Remove(const std::string& tenant_id, const std::string& request_id,
                                       const std::string& timer_id);
  /// The request's timer ids in byte order, those after `after` (all when
  /// it is empty), at most `limit`.
  asio::awaitable<absl::StatusOr<std::vector<std::string>>> OfRequest(const std::string& tenant_id,
                                                                      const std::string& request_id,
                                                                      const std::string& after,
                                                                      size_t limit);

 private:
  std::string KeyOf(const std::string& tenant_id, const std::string& request_id) const;

  redis::AsyncClient& redis_;
  const std::string key_prefix_;
};

/// A timer store that keeps `index` up to date: an armed timer is added
/// before it is armed, a cancelled or finished one removed after. So the
/// index may name a timer that is gone, never miss one that is armed
/// (unless a removal and a re-arm of the same id race).
class IndexedTimerStore final : public ForwardingTimerStore {
 public:
  IndexedTimerStore(TimerStore& inner, TimerIndex& index)
      : ForwardingTimerStore(inner), index_(index) {}

  asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) override;
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id) override;
  asio::awaitable<absl::Status> Complete(const ClaimedTimer& claimed,
                                         const std::optional<FirePoint>& next) override;

 private:
  TimerIndex& index_;
};

}  // namespace flywheel::scheduler
