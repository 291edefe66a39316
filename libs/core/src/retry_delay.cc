#include "flywheel/core/retry_delay.h"

#include <cstdint>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace flywheel {

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  if (status.ok()) return status;
  const int64_t nanos = std::max<int64_t>(0, absl::ToInt64Nanoseconds(delay));
  status.SetPayload(kRetryDelayPayload, absl::Cord(std::to_string(nanos)));
  return status;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryDelayPayload);
  if (!payload) return std::nullopt;
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &nanos) || nanos < 0) return std::nullopt;
  return absl::Nanoseconds(nanos);
}

}  // namespace flywheel
