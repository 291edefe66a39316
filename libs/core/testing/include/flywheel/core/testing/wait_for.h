#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace flywheel::testing {

/// Polls `condition` every 20 ms until it holds or `deadline` passes, and
/// returns whether it held. How integration tests wait on something that
/// happens elsewhere (a consumer, a broker, Redis) without a fixed sleep.
template <typename Condition>
bool WaitFor(Condition condition, absl::Duration deadline = absl::Seconds(60)) {
  const absl::Time give_up = absl::Now() + deadline;
  while (absl::Now() < give_up) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return condition();
}

}  // namespace flywheel::testing
