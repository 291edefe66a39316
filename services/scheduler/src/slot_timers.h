#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// The moment one revision of a publishing slot is looked at: its publish
/// time while it is reserved, the end of the blackout that held it after.
struct SlotPoint {
  std::string tenant_id;
  std::string slot_id;
  /// The slot's revision when the point was armed; once the slot has moved
  /// on (rescheduled, cancelled, decided), the point finds nothing to do.
  int64_t revision = 0;
  /// When it fires, to the millisecond.
  absl::Time at;
  /// The slot's request, kept with the timer for whoever lists timers.
  std::string request_id;
};

/// The timer id of `point`: "publish/<slot id>/<revision>/<ms>". Every
/// armed time of every revision is a timer of its own, so arming one never
/// replaces another that still matters.
std::string SlotTimerId(const SlotPoint& point);

/// The slot point a stored timer stands for; nullopt when it is not a
/// publish point or its id is not one `SlotTimerId` makes.
std::optional<SlotPoint> SlotPointOf(const StoredTimer& timer);

/// Arms and cancels slot points as publish points (PointKind::kPublish) in
/// the scheduler's timer store: the claimer fires them with the SLA timers,
/// under the same leases (one replica at a time, taken over when a holder
/// dies), and `Timers::FireDue` hands each to the publishing calendar.
/// Thread-safe, like the store; coroutines run on the caller's executor.
class SlotTimers {
 public:
  /// `on_armed` is told each armed time, so a claimer sleeping past it
  /// wakes (may be empty).
  explicit SlotTimers(TimerStore& store, std::function<void(absl::Time)> on_armed = nullptr);

  /// Arms `point`; arming it again changes nothing but its lease.
  asio::awaitable<absl::Status> Arm(const SlotPoint& point);

  /// Removes `point` when it is armed; OK when it is not.
  asio::awaitable<absl::Status> Cancel(const SlotPoint& point);

 private:
  TimerStore& store_;
  const std::function<void(absl::Time)> on_armed_;
};

}  // namespace flywheel::scheduler
