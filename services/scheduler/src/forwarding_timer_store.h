#pragma once

#include "timer_store.h"

namespace flywheel::scheduler {

/// A TimerStore that hands every call to another one: derive from it and
/// override what a wrapper adds to (writing a changelog, failing from some
/// point on in a test). `inner` must outlive it.
class ForwardingTimerStore : public TimerStore {
 public:
  explicit ForwardingTimerStore(TimerStore& inner) : inner_(inner) {}

  asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) override {
    return inner_.Arm(arm);
  }
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id) override {
    return inner_.Cancel(tenant_id, timer_id);
  }
  asio::awaitable<absl::StatusOr<StoredTimer>> Pause(const std::string& tenant_id,
                                                     const std::string& timer_id,
                                                     absl::Time now) override {
    return inner_.Pause(tenant_id, timer_id, now);
  }
  asio::awaitable<absl::StatusOr<StoredTimer>> Resume(const std::string& tenant_id,
                                                      const std::string& timer_id,
                                                      const FirePoint& next,
                                                      uint32_t expected_revision) override {
    return inner_.Resume(tenant_id, timer_id, next, expected_revision);
  }
  asio::awaitable<absl::StatusOr<std::optional<StoredTimer>>> Get(
      const std::string& tenant_id, const std::string& timer_id) override {
    return inner_.Get(tenant_id, timer_id);
  }
  asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> Claim(absl::Time now, size_t max,
                                                                   absl::Duration lease) override {
    return inner_.Claim(now, max, lease);
  }
  asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) override {
    return inner_.CompleteAll(batch);
  }
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override {
    return inner_.NextDue();
  }

 protected:
  TimerStore& inner() { return inner_; }

 private:
  TimerStore& inner_;
};

}  // namespace flywheel::scheduler
