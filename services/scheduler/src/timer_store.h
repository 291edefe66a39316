#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/common/v1/common.pb.h"

namespace flywheel::scheduler {

/// Which kind of point a timer fires at next.
enum class PointKind : uint8_t {
  /// SlaWarning: the work is at risk.
  kWarning = 0,
  /// SlaBreached: the due time (escalation level 0) or an escalation after it.
  kBreach = 1,
  /// A publishing slot's time (see slot_timers.h): the timer's only point;
  /// what fires is decided by the publishing calendar, not the timer.
  kPublish = 2,
};

/// The highest escalation level a timer can reach (the breach is level 0).
/// The Redis store codes a point in one byte: 0 warning, 1 + level a
/// breach, 255 a publish point.
inline constexpr uint32_t kMaxEscalationLevel = 253;

/// The most timers one `Claim` returns; a larger `max` is taken as this.
inline constexpr size_t kMaxClaimBatch = 10'000;

/// One point at which a timer fires: what fires and when.
struct FirePoint {
  PointKind kind = PointKind::kBreach;
  /// For kBreach, SlaBreached's `escalation_level`: 0 for the breach itself,
  /// then 1, 2... for each escalation after it. Always 0 for kWarning and
  /// kPublish.
  uint32_t escalation_level = 0;
  /// When it fires. Stores keep it to the millisecond.
  absl::Time due;

  friend bool operator==(const FirePoint&, const FirePoint&) = default;
};

/// What a timer was started with: everything needed to build its events and
/// to compute its later points (on its calendar) from the point it is at.
/// It does not change while the timer lives. Durations are kept to the
/// millisecond.
struct TimerSpec {
  /// The request the timer belongs to.
  std::string request_id;
  /// What it measures.
  common::v1::TimerKind kind = common::v1::TIMER_KIND_UNSPECIFIED;
  /// The workflow stage, if any.
  std::string stage_id;
  /// The business-hours calendar it counts in; empty for the tenant default.
  std::string calendar_id;
  /// Business time from start to the breach.
  absl::Duration duration;
  /// Business time from start to the warning; zero when it has none.
  absl::Duration warn_after;
  /// Delays after the breach at which each escalation fires.
  std::vector<absl::Duration> escalate_after;
  /// When the timer was started.
  absl::Time start_time;

  friend bool operator==(const TimerSpec&, const TimerSpec&) = default;
};

/// A timer to create or replace: its identity, its spec and the first point
/// it fires at (computed by the caller on the timer's calendar).
struct TimerArm {
  std::string tenant_id;
  /// Unique per tenant, chosen by whoever started the timer.
  std::string timer_id;
  TimerSpec spec;
  FirePoint next;
};

/// A timer as stored.
struct StoredTimer {
  std::string tenant_id;
  std::string timer_id;
  TimerSpec spec;
  /// The point it fires at next; while paused, the point it will fire at
  /// once resumed, with the due time it had when the clock stopped.
  FirePoint next;
  /// Set while paused: when the clock stopped. The business time left is
  /// the calendar's time between `paused_at` and `next.due`.
  std::optional<absl::Time> paused_at;
  /// Changes with every write to the timer (arm, pause, resume, claim,
  /// complete) and does not come back within a store's lifetime of leases;
  /// a claim's lease token, and what `Resume` checks.
  uint32_t revision = 0;

  friend bool operator==(const StoredTimer&, const StoredTimer&) = default;
};

/// A timer claimed for firing: the holder publishes the event of
/// `timer.next`, then calls `Complete` before `lease_until`.
struct ClaimedTimer {
  /// The timer as claimed; its `revision` is the lease token.
  StoredTimer timer;
  /// When the lease ends; after it, any claimer may take the timer again.
  absl::Time lease_until;
};

/// A claimed point to complete, and where its timer goes next.
struct Completion {
  /// The claim; it must live until the completion returns.
  const ClaimedTimer* claimed = nullptr;
  /// The timer's next point, or nullopt when the claimed one was its last
  /// (the timer is removed).
  std::optional<FirePoint> next;
};

/// The CloudEvents id of the event `point` of a timer fires: tenant, timer id,
/// point and due time, so a point fired twice (a claimer that died before
/// `Complete`) publishes the same id and consumers dedupe it.
std::string FiredEventId(const std::string& tenant_id, const std::string& timer_id,
                         const FirePoint& point);

/// `time` cut to the millisecond (towards the past), as stores keep it.
absl::Time ToStoredTime(absl::Time time);

/// `arm` with its times and durations cut to the millisecond, as stored.
TimerArm StoredForm(TimerArm arm);

/// INVALID_ARGUMENT naming what is wrong with `arm`: an empty tenant or timer
/// id, a NUL in the tenant, a tenant and timer id longer than 250 bytes
/// together, a warning or publish point with an escalation level, a level above
/// kMaxEscalationLevel, a negative duration. Both stores check it first.
absl::Status CheckArm(const TimerArm& arm);

/// INVALID_ARGUMENT for a point `CheckArm` would refuse.
absl::Status CheckPoint(const FirePoint& point);

/// Where the scheduler keeps its SLA timers, due by due time, claimed for
/// firing under a lease so that replicas never fire one point together,
/// and a claim whose holder died is taken over when its lease ends.
///
/// Time is always a parameter (`now`), never read from a clock here. Times
/// are kept to the millisecond. Failures of the backing store are
/// UNAVAILABLE. Implementations are thread-safe.
///
/// Every operation is a coroutine; arguments passed by reference must live
/// until it completes (`co_await` it at once).
class TimerStore {
 public:
  virtual ~TimerStore() = default;

  /// Creates the timer, or replaces the one with its tenant and id (a
  /// paused or claimed one too: a holder's lease ends and its `Complete` is
  /// refused). It is due at `arm.next.due`. Returns it as stored.
  virtual asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) = 0;

  /// Removes the timer for good. False when there was none.
  virtual asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                                       const std::string& timer_id) = 0;

  /// Stops the timer's clock at `now`: it is no longer due and keeps its
  /// next point, so the business time left can be computed at `Resume`. A
  /// claim in progress loses its lease (its point fires again after the
  /// resume). NOT_FOUND for no such timer; FAILED_PRECONDITION when it is
  /// paused already.
  virtual asio::awaitable<absl::StatusOr<StoredTimer>> Pause(const std::string& tenant_id,
                                                             const std::string& timer_id,
                                                             absl::Time now) = 0;

  /// Restarts a paused timer, due next at `next` (the caller computed it
  /// from the business time left), if its revision is still
  /// `expected_revision` (ABORTED otherwise: re-read and try again).
  /// NOT_FOUND for no such timer; FAILED_PRECONDITION when it is not paused.
  virtual asio::awaitable<absl::StatusOr<StoredTimer>> Resume(const std::string& tenant_id,
                                                              const std::string& timer_id,
                                                              const FirePoint& next,
                                                              uint32_t expected_revision) = 0;

  /// The timer, or nullopt when there is none.
  virtual asio::awaitable<absl::StatusOr<std::optional<StoredTimer>>> Get(
      const std::string& tenant_id, const std::string& timer_id) = 0;

  /// Takes up to `max` (at most kMaxClaimBatch) timers due at `now` (next point due at or before
  /// it, or a lease ended at or before it) and leases each until `now + lease`, so no other claim
  /// returns it until then. Returned sorted by due time. When more than `max` are due, every one
  /// returned is due, but which ones come first is the implementation's (the Redis store takes each
  /// shard's earliest first). Paused timers are never due. INVALID_ARGUMENT
  /// for a lease that is not positive.
  virtual asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> Claim(
      absl::Time now, size_t max, absl::Duration lease) = 0;

  /// After the events of the claimed points are published: moves each
  /// timer on to its `next` (due then) or, with nullopt, removes it (its
  /// last point fired). Returns one status per completion, in `batch`'s
  /// order: OK; ABORTED when the claim no longer holds the timer (its lease
  /// ended and another claim took it, or it was re-armed, paused or
  /// cancelled since): nothing changes, the holder must not act on it;
  /// INVALID_ARGUMENT for a `next` that `CheckPoint` refuses; UNAVAILABLE
  /// when the store could not be reached. A late completion whose lease
  /// ended but that nobody took over still holds. Each completion stands
  /// or fails on its own; a batch costs few round trips (the Redis store:
  /// one script per shard).
  virtual asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) = 0;

  /// `CompleteAll` of one claim.
  asio::awaitable<absl::Status> Complete(const ClaimedTimer& claimed,
                                         const std::optional<FirePoint>& next);

  /// The earliest time at which `Claim` would return something: the
  /// soonest due point or lease end over all timers; nullopt when there is
  /// nothing to wait for. A claimer sleeps until then (or until it arms an
  /// earlier timer itself) instead of polling.
  virtual asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() = 0;
};

}  // namespace flywheel::scheduler
