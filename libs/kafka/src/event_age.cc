#include "event_age.h"

#include <algorithm>

namespace flywheel::kafka {

EventAge AgeOfEvent(absl::Time now, std::optional<absl::Time> ce_time,
                    std::optional<absl::Time> record_time) {
  EventAge result;
  if (!ce_time) return result;
  if (const absl::Duration age = now - *ce_time; age >= -kClockSkewTolerance) {
    result.age = std::max(age, absl::ZeroDuration());
    return result;
  }
  result.skew = *ce_time - now;
  if (record_time && now - *record_time >= -kClockSkewTolerance) {
    result.age = std::max(now - *record_time, absl::ZeroDuration());
  }
  return result;
}

}  // namespace flywheel::kafka
