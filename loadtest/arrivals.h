// Matching what a load generator sent with the event it caused, by id,
// whichever of the two it learns of first (an event can overtake the answer
// to the call that caused it).
#pragma once

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "samples.h"

namespace flywheel::loadtest {

/// Latency from each id's send to its arrival; thread-safe.
class Arrivals {
 public:
  /// `id` was planned to go out at `planned`.
  void Submitted(const std::string& id, absl::Time planned) {
    std::lock_guard lock(mu_);
    if (auto it = arrived_.find(id); it != arrived_.end()) {
      latency_.Add(absl::ToDoubleSeconds(it->second - planned));
      arrived_.erase(it);
    } else {
      pending_[id] = planned;
    }
  }
  /// The event for `id` arrived at `at`.
  void Arrived(const std::string& id, absl::Time at) {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(id); it != pending_.end()) {
      latency_.Add(absl::ToDoubleSeconds(at - it->second));
      pending_.erase(it);
    } else {
      arrived_[id] = at;
    }
  }
  /// Ids sent whose event has not arrived.
  size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  Samples& latency() { return latency_; }

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> pending_;
  absl::flat_hash_map<std::string, absl::Time> arrived_;
  Samples latency_;
};

}  // namespace flywheel::loadtest
