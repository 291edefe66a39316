#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "due_source.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/runtime/live_policy.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"
#include "policy.h"
#include "scheduler_metrics.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// The scheduler policy as the service holds it: replaced whole on reload.
using PolicyHolder = runtime::LivePolicy<Policy>;

/// What a publish point (PointKind::kPublish) does when it fires: the event
/// to publish, none when nothing goes out, or an error, after which the
/// point fires again once its lease ends.
using PublishHook =
    std::function<asio::awaitable<absl::StatusOr<std::optional<kafka::OutgoingEvent>>>(
        const StoredTimer& timer)>;

/// SLA timers: started, paused, resumed, extended and cancelled by events
/// and gRPC, counted in business time on the tenant's calendars, and fired
/// when due (a warning at the policy's share of the budget, the breach, then
/// each escalation of the chain). Every time comes from `clock`. Thread-safe;
/// every coroutine runs on the caller's executor.
class Timers final : public DueSource {
 public:
  /// `sla_topic` is where SlaWarning and SlaBreached go; `on_armed` is told
  /// each newly due time, so a claimer sleeping past it wakes (may be empty);
  /// `on_publish` decides what each publish point fires (empty: nothing).
  Timers(const PolicyHolder& policy, TimerStore& store, kafka::EventPublisher& publisher,
         std::string sla_topic, SchedulerMetrics& metrics, const Clock& clock,
         std::function<void(absl::Time)> on_armed = nullptr, PublishHook on_publish = nullptr);

  /// Starts the timer `request` describes (its action is not read). A timer
  /// with that id that exists already is left as it is (a redelivered
  /// start changes nothing). INVALID_ARGUMENT with every bad field: no
  /// tenant, timer or request id, a budget that is not positive, a warning
  /// share outside [0, 1), escalation delays not positive or not rising, a
  /// tenant or calendar the policy does not have.
  asio::awaitable<absl::StatusOr<v1::Timer>> Start(const v1::TimerRequested& request);

  /// Stops the timer's clock. NOT_FOUND, or FAILED_PRECONDITION when paused.
  asio::awaitable<absl::StatusOr<v1::Timer>> Pause(const std::string& tenant_id,
                                                   const std::string& timer_id);

  /// Restarts a paused clock with the business time it had left.
  /// NOT_FOUND, or FAILED_PRECONDITION when not paused.
  asio::awaitable<absl::StatusOr<v1::Timer>> Resume(const std::string& tenant_id,
                                                    const std::string& timer_id);

  /// Adds `by` business time to a running timer's budget, moving its next
  /// point. INVALID_ARGUMENT for `by` not positive; FAILED_PRECONDITION
  /// for a paused or breached timer.
  asio::awaitable<absl::StatusOr<v1::Timer>> Extend(const std::string& tenant_id,
                                                    const std::string& timer_id, absl::Duration by);

  /// Stops the timer for good; false when there was none.
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id);

  /// The timer, NOT_FOUND when there is none (cancelled or finished).
  asio::awaitable<absl::StatusOr<v1::Timer>> Get(const std::string& tenant_id,
                                                 const std::string& timer_id);

  /// Time and business time left on the timer.
  asio::awaitable<absl::StatusOr<v1::GetRemainingResponse>> Remaining(const std::string& tenant_id,
                                                                      const std::string& timer_id);

  /// The instant `duration` of business time after `start` on the tenant's
  /// calendar (`calendar_id`, or its default when empty).
  absl::StatusOr<absl::Time> ComputeDue(const std::string& tenant_id,
                                        const std::string& calendar_id, absl::Time start,
                                        absl::Duration duration) const;

  /// A TimerRequested from the timer-requests topic: START, PAUSE, RESUME or
  /// CANCEL. A pause, resume or cancel of a timer that is not there (or not
  /// in the state it needs) changes nothing and is OK; a bad start is
  /// INVALID_ARGUMENT (dead-lettered with its reason).
  asio::awaitable<absl::Status> Apply(const v1::TimerRequested& request);

  /// Claims up to `max` due points. The batch's `fire` publishes their
  /// events in one batch (ids from the timer and due time, so a point fired
  /// twice is the same event), then moves each timer to its next point. A
  /// publish point's event is the one `on_publish` gives (all of the
  /// batch's are asked at once); it is the timer's last point.
  asio::awaitable<absl::StatusOr<ClaimedBatch>> ClaimDue(size_t max, absl::Duration lease) override;

  /// When the next point is due (or a lease ends); nullopt when nothing is.
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override;

 private:
  // The calendar a stored timer counts in, kept alive with the policy that
  // holds it (no copy per fired point); always-open when the policy no
  // longer has it (a reload removed it), so the timer still fires.
  std::shared_ptr<const BusinessCalendar> CalendarOf(const std::string& tenant_id,
                                                     const TimerSpec& spec) const;
  // When the breach is (or was) due, seen from the timer's next point; none
  // while it escalates (the breach is past and not kept).
  std::optional<absl::Time> BreachDue(const StoredTimer& timer) const;
  v1::Timer ToProto(const StoredTimer& timer) const;
  // The event of `timer`'s next point, and the point after it.
  kafka::OutgoingEvent EventOf(const StoredTimer& timer) const;
  std::optional<FirePoint> After(const StoredTimer& timer) const;
  // Publishes the claimed points' events and completes them.
  asio::awaitable<absl::Status> Fire(std::vector<ClaimedTimer> claimed);
  asio::awaitable<absl::StatusOr<StoredTimer>> Read(const std::string& tenant_id,
                                                    const std::string& timer_id);
  void Armed(absl::Time due) const;

  const PolicyHolder& policy_;
  TimerStore& store_;
  kafka::EventPublisher& publisher_;
  const std::string sla_topic_;
  SchedulerMetrics& metrics_;
  const Clock& clock_;
  const std::function<void(absl::Time)> on_armed_;
  const PublishHook on_publish_;
};

}  // namespace flywheel::scheduler
