#pragma once

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace flywheel {

/// The source of time for everything that schedules or measures. Injected,
/// so SLA logic is tested by moving a `FakeClock`, never by sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Thread-safe.
  virtual absl::Time Now() const = 0;
};

/// Wall-clock time from the operating system.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  /// A process-wide instance; it holds no state.
  static SystemClock& Instance();
};

/// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() const override;
  void Advance(absl::Duration by);
  void Set(absl::Time to);

 private:
  mutable std::mutex mu_;
  absl::Time now_;
};

}  // namespace flywheel
