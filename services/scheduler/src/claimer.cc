#include "claimer.h"

#include <algorithm>
#include <asio/bind_executor.hpp>
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

void Claimer::Launch(asio::awaitable<absl::Status> fire) {
  ++firing_;
  asio::co_spawn(strand_, std::move(fire),
                 asio::bind_executor(strand_, [this](std::exception_ptr, absl::Status fired) {
                   --firing_;
                   if (!fired.ok()) {
                     // Its unfinished points fire again once their lease ends.
                     log::Warn("a claimed batch was not fired; it fires again after its lease",
                               {{"error", fired.ToString()}});
                   }
                   // Its timers may be due again at their next points.
                   woken_ = true;
                   sleep_.cancel();
                 }));
}

asio::awaitable<void> Claimer::Sleep(absl::Duration wait) {
  if (wait <= absl::ZeroDuration() || woken_.load()) co_return;
  sleeping_until_ms_ = absl::ToUnixMillis(clock_.Now() + wait);
  sleep_.expires_after(absl::ToChronoMilliseconds(wait) + std::chrono::milliseconds(1));
  std::error_code cancelled;
  co_await sleep_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
  sleeping_until_ms_ = INT64_MAX;
}

asio::awaitable<void> Claimer::Run() {
  absl::Time next_busy_report = absl::InfinitePast();
  while (!stopping_.load()) {
    woken_ = false;
    if (firing_ >= std::max<size_t>(options_.in_flight, 1)) {
      // Woken when one of them ends.
      if (!stopping_.load()) co_await Sleep(options_.max_idle);
      continue;
    }
    absl::Duration wait = options_.max_idle;
    auto batch = co_await source_.ClaimDue(options_.batch, options_.lease);
    if (!batch.ok()) {
      log::Warn("due timers not claimed; trying again", {{"error", batch.status().ToString()}});
      wait = std::min(wait, absl::Seconds(1));
    } else {
      if (batch->fire.valid()) Launch(std::move(batch->fire));
      if (batch->claimed >= options_.batch) {
        // More may be due: claim again at once, saying now and then how far
        // behind the claimer is.
        if (on_overdue_ && clock_.Now() >= next_busy_report) {
          next_busy_report = clock_.Now() + absl::Seconds(1);
          auto next = co_await source_.NextDue();
          if (next.ok()) ReportOverdue(*next);
        }
        continue;
      }
      auto next = co_await source_.NextDue();
      if (next.ok()) ReportOverdue(*next);
      if (next.ok() && next->has_value()) {
        wait = std::clamp(**next - clock_.Now(), absl::ZeroDuration(), options_.max_idle);
      }
    }
    if (!stopping_.load()) co_await Sleep(wait);
  }
  // Stopping: the batches being fired end on their own (each wakes the
  // loop as it does).
  while (firing_ > 0) {
    woken_ = false;
    co_await Sleep(options_.max_idle);
  }
  done_.Notify();
}

}  // namespace flywheel::scheduler
