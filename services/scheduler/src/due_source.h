#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::scheduler {

/// How long a claimed point is held before another claimer may take it.
inline constexpr absl::Duration kDefaultLease = absl::Seconds(30);

/// Points a DueSource claimed and has not fired yet.
struct ClaimedBatch {
  /// How many points were claimed.
  size_t claimed = 0;
  /// Publishes the points' events and completes them (not valid when
  /// nothing was claimed). Await it once, after the claim; it may run
  /// beside later claims, as each of its points stays leased until it
  /// completes. On an error some points were not completed: they fire
  /// again, under the same event ids, once their lease ends.
  asio::awaitable<absl::Status> fire;
};

/// What a Claimer drives: points armed in a TimerStore, fired when due (SLA
/// timers; occurrences of recurring work).
class DueSource {
 public:
  virtual ~DueSource() = default;

  /// Claims up to `max` due points under `lease`; the batch says how many
  /// and fires them.
  virtual asio::awaitable<absl::StatusOr<ClaimedBatch>> ClaimDue(size_t max,
                                                                 absl::Duration lease) = 0;

  /// When the next point is due (or a lease ends); nullopt when nothing is.
  virtual asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() = 0;

  /// Claims up to `max` due points and fires them, one step after the
  /// other; returns how many were claimed.
  asio::awaitable<absl::StatusOr<size_t>> FireDue(size_t max,
                                                  absl::Duration lease = kDefaultLease) {
    absl::StatusOr<ClaimedBatch> batch = co_await ClaimDue(max, lease);
    if (!batch.ok()) co_return batch.status();
    if (batch->fire.valid()) {
      absl::Status fired = co_await std::move(batch->fire);
      if (!fired.ok()) co_return fired;
    }
    co_return batch->claimed;
  }
};

}  // namespace flywheel::scheduler
