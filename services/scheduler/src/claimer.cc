#include "claimer.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "flywheel/log/log.h"

namespace flywheel::scheduler {

Claimer::Claimer(DueSource& source, asio::io_context& io, const Clock& clock,
                 ClaimerOptions options, std::function<void(absl::Duration)> on_overdue)
    : source_(source),
      clock_(clock),
      options_(options),
      on_overdue_(std::move(on_overdue)),
      strand_(asio::make_strand(io)),
      sleep_(strand_) {}

void Claimer::Start() {
  if (started_.exchange(true)) return;
  asio::co_spawn(strand_, Run(), asio::detached);
}

void Claimer::DueAt(absl::Time due) {
  if (absl::ToUnixMillis(due) < sleeping_until_ms_.load()) Wake();
}

void Claimer::Wake() {
  woken_ = true;
  asio::post(strand_, [this] { sleep_.cancel(); });
}

void Claimer::Stop() {
  if (!started_.load() || stopping_.exchange(true)) {
    if (started_.load()) done_.WaitForNotification();
    return;
  }
  asio::post(strand_, [this] { sleep_.cancel(); });
  done_.WaitForNotification();
}

void Claimer::ReportOverdue(const std::optional<absl::Time>& next) {
  if (!on_overdue_) return;
  on_overdue_(next ? std::max(clock_.Now() - *next, absl::ZeroDuration()) : absl::ZeroDuration());
}

asio::awaitable<void> Claimer::Run() {
  absl::Time next_busy_report = absl::InfinitePast();
  while (!stopping_.load()) {
    woken_ = false;
    absl::Duration wait = options_.max_idle;
    auto fired = co_await source_.FireDue(options_.batch, options_.lease);
    if (!fired.ok()) {
      log::Warn("due timers not fired; trying again", {{"error", fired.status().ToString()}});
      wait = std::min(wait, absl::Seconds(1));
    } else if (*fired >= options_.batch) {
      // More may be due: fire again at once, saying now and then how far
      // behind the claimer is.
      if (on_overdue_ && clock_.Now() >= next_busy_report) {
        next_busy_report = clock_.Now() + absl::Seconds(1);
        auto next = co_await source_.NextDue();
        if (next.ok()) ReportOverdue(*next);
      }
      continue;
    } else {
      auto next = co_await source_.NextDue();
      if (next.ok()) ReportOverdue(*next);
      if (next.ok() && next->has_value()) {
        wait = std::clamp(**next - clock_.Now(), absl::ZeroDuration(), options_.max_idle);
      }
    }
    if (wait <= absl::ZeroDuration() || woken_.load() || stopping_.load()) continue;
    sleeping_until_ms_ = absl::ToUnixMillis(clock_.Now() + wait);
    sleep_.expires_after(absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1));
    std::error_code cancelled;
    co_await sleep_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    sleeping_until_ms_ = INT64_MAX;
  }
  done_.Notify();
}

}  // namespace flywheel::scheduler
