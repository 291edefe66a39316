#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace flywheel {

/// A status that tells the caller when a retry may succeed (a rate limit,
/// an overload): `status` with `delay` in its payload. At the gRPC edge it
/// becomes a `google.rpc.RetryInfo` detail. `delay` below zero counts as 0.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

/// The delay `WithRetryDelay` put on `status`, if any.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

/// The type URL under which the delay rides in an absl::Status payload.
inline constexpr char kRetryDelayPayload[] = "type.flywheel.dev/flywheel.core.RetryDelay";

}  // namespace flywheel
