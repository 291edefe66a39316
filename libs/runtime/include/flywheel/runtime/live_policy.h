#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace flywheel::runtime {

/// The policy in force, swapped whole by a `Reloader` while requests and
/// events read it. Readers keep the snapshot they got for the whole call, so
/// one call never sees half of an old policy and half of a new one.
/// Thread-safe.
template <typename Policy>
class LivePolicy {
 public:
  explicit LivePolicy(std::shared_ptr<const Policy> initial) : policy_(std::move(initial)) {}

  std::shared_ptr<const Policy> Get() const {
    std::lock_guard lock(mu_);
    return policy_;
  }
  void Set(std::shared_ptr<const Policy> policy) {
    std::lock_guard lock(mu_);
    policy_ = std::move(policy);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
};

}  // namespace flywheel::runtime
