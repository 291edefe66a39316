#include "flywheel/core/clock.h"

namespace flywheel {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration by) {
  std::lock_guard lock(mu_);
  now_ += by;
}

void FakeClock::Set(absl::Time to) {
  std::lock_guard lock(mu_);
  now_ = to;
}

}  // namespace flywheel
