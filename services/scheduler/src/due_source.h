#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::scheduler {

/// What a Claimer drives: points armed in a TimerStore, fired when due (SLA
/// timers; occurrences of recurring work).
class DueSource {
 public:
  virtual ~DueSource() = default;

  /// Claims up to `max` due points under `lease`, fires them, and returns
  /// how many were claimed.
  virtual asio::awaitable<absl::StatusOr<size_t>> FireDue(size_t max, absl::Duration lease) = 0;

  /// When the next point is due (or a lease ends); nullopt when nothing is.
  virtual asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() = 0;
};

}  // namespace flywheel::scheduler
