#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <functional>
#include <optional>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "due_source.h"
#include "flywheel/core/clock.h"
#include "timers.h"

namespace flywheel::scheduler {

/// How the claimer paces itself.
struct ClaimerOptions {
  /// Most points fired per claim.
  size_t batch = 1000;
  /// How long a claimed timer is held before another replica may take it.
  absl::Duration lease = kDefaultLease;
  /// The longest it sleeps without looking: timers armed by another
  /// replica, earlier than anything this one knows of, are seen within it.
  absl::Duration max_idle = absl::Seconds(5);
  /// Most claimed batches being fired at once: the next claim goes out
  /// while earlier batches wait for their publish acknowledgement and
  /// their completions. 1 fires one batch after the other.
  size_t in_flight = 4;
};

/// Fires due points (SLA timers, or recurring work's occurrences: any
/// DueSource): claims a batch and sets it firing, claims the next while
/// earlier batches are still being published and completed (up to
/// `in_flight` of them, each finishing on its own), and when nothing more
/// is due sleeps until the next due time (as the store reports it, read
/// again when this replica arms an earlier timer or a batch finishes),
/// never longer than `max_idle`. Runs on a strand of `io`: the loop and
/// every batch it fires. `on_overdue` (may be empty)
/// is told how long the earliest point not yet fired has been due (zero
/// when none is): after each look at the next due time, and at least once
/// a second while it fires batch after batch. It is the backlog an SRE
/// watches.
class Claimer {
 public:
  Claimer(DueSource& source, asio::io_context& io, const Clock& clock, ClaimerOptions options = {},
          std::function<void(absl::Duration)> on_overdue = nullptr);
  ~Claimer() { Stop(); }
  Claimer(const Claimer&) = delete;
  Claimer& operator=(const Claimer&) = delete;

  /// Starts the loop.
  void Start();
  /// A point is due at `due`: wake now if the claimer sleeps past it. Any
  /// thread.
  void DueAt(absl::Time due);
  /// Wakes the claimer to look again now (after a test moves its clock).
  /// Any thread.
  void Wake();
  /// Ends the loop, lets the batches being fired finish, and waits until
  /// they have; `io` must still be running.
  void Stop();

 private:
  asio::awaitable<void> Run();
  // Fires a claimed batch beside the loop, which looks again when it ends.
  void Launch(asio::awaitable<absl::Status> fire);
  // Sleeps up to `wait`, or until woken; on the strand.
  asio::awaitable<void> Sleep(absl::Duration wait);
  // Reports how overdue `next` is, if anyone listens.
  void ReportOverdue(const std::optional<absl::Time>& next);

  DueSource& source_;
  const Clock& clock_;
  const ClaimerOptions options_;
  const std::function<void(absl::Duration)> on_overdue_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer sleep_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> woken_{false};
  // Batches being fired; on the strand.
  size_t firing_ = 0;
  // When the current sleep ends, in Unix milliseconds; INT64_MAX while awake.
  std::atomic<int64_t> sleeping_until_ms_{INT64_MAX};
  absl::Notification done_;
};

}  // namespace flywheel::scheduler
