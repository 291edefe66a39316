#pragma once

#include <string>

#include "stored_timer.pb.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// `arm`'s spec packed as the Redis store and the journal keep it: the
/// request id left out when the timer id starts with it and a `/`.
stored::StoredSpec PackSpec(const TimerArm& arm);

/// The spec `PackSpec` packed for the timer `timer_id`.
TimerSpec UnpackSpec(const stored::StoredSpec& packed, const std::string& timer_id);

}  // namespace flywheel::scheduler
