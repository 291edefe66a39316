#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"

namespace flywheel::runtime {

/// Runs a task every `interval` on a thread of its own, the first time one
/// interval after `Start`. Background chores such as relaying an outbox use
/// it, so each one does not grow a thread loop of its own. The task's
/// failures are its own to log. Non-copyable.
class Periodic {
 public:
  static std::unique_ptr<Periodic> Start(std::string name, absl::Duration interval,
                                         std::function<void()> task);
  /// `Stop()`.
  ~Periodic();
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  /// Wakes the thread, lets a task in hand finish and joins. Idempotent.
  void Stop();

 private:
  struct State;
  explicit Periodic(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace flywheel::runtime
