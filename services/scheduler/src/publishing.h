#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"
#include "slot_store.h"
#include "slot_timers.h"
#include "timers.h"

namespace flywheel::scheduler {

/// The type URL under which a FAILED_PRECONDITION of the publishing
/// calendar carries its conflicts: a serialized v1::CheckSlotResponse.
inline constexpr char kConflictsPayload[] =
    "type.googleapis.com/flywheel.scheduler.v1.CheckSlotResponse";

/// The conflicts `status` carries (see kConflictsPayload); empty for any
/// other status.
std::vector<v1::Conflict> ConflictsOf(const absl::Status& status);

/// How far ahead of a refused time a suggestion is looked for.
inline constexpr absl::Duration kSuggestionHorizon = absl::Hours(24 * 90);

/// How long after its time a slot point whose revision is not written yet
/// (its write is still under way) is tried again before it is dropped.
inline constexpr absl::Duration kUnwrittenPointLife = absl::Minutes(1);

/// What `Fire` decided at a slot's time.
struct FireOutcome {
  /// The slot after the decision: DUE, or HELD with its holds.
  v1::PublishingSlot slot;
  /// PublishDue, for a DUE slot; its id comes from the slot and the
  /// revision it had, so a decision fired twice publishes one event id.
  std::optional<kafka::OutgoingEvent> event;
};

/// The publishing calendar: slots reserved per destination at least the
/// policy's `min_gap` apart (per tenant and platform), blackouts that hold
/// every publish inside them, and approvals that release them.
///
/// A slot is reserved as soon as its time is free, approved or not: it
/// takes its place on the calendar, so nobody else takes the time while
/// the work is being approved. What holds it (the request not approved
/// yet, a blackout over it) is worked out whenever it is read (`holds`)
/// and decided at its time (`Fire`): DUE and PublishDue when nothing holds
/// it, else HELD, which publishes nothing and frees its place. A slot held
/// by a blackout is looked at again when the blackout ends or is deleted,
/// and goes out then if nothing holds it any more; one held only for its
/// approval waits until it is rescheduled.
///
/// Every slot revision that has a time to be looked at has a point in
/// `timers`, armed before the revision is written: a crash between the two
/// leaves a point that finds nothing to do, never a slot without a point.
/// Points of revisions since replaced find nothing to do either.
///
/// Every time comes from `clock`. Thread-safe; every coroutine runs on the
/// caller's executor; reference arguments must outlive the call.
class Publishing {
 public:
  /// `publishing_topic` is where PublishDue goes; `new_id` makes slot and
  /// blackout ids when no idempotency key names them (random when empty).
  Publishing(const PolicyHolder& policy, SlotStore& store, SlotTimers& timers,
             std::string publishing_topic, const Clock& clock,
             std::function<std::string()> new_id = nullptr);

  /// The conflicts of a proposed time, each with the nearest later time
  /// free of every conflict when one exists within kSuggestionHorizon; a
  /// time not after now is an OUT_OF_RANGE conflict. INVALID_ARGUMENT
  /// naming every bad field.
  asio::awaitable<absl::StatusOr<std::vector<v1::Conflict>>> Check(const v1::CheckSlotRequest& r);

  /// Reserves the slot when its time is free: RESERVED, revision 1, with
  /// its holds. A retry with the same idempotency key returns the slot of
  /// the first call. INVALID_ARGUMENT naming every bad field (a time not
  /// after now among them); FAILED_PRECONDITION with the conflicts (see
  /// ConflictsOf) when the time is taken or blacked out: nothing reserved.
  asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Reserve(const v1::ReserveSlotRequest& r);

  /// Moves a RESERVED, HELD or FAILED slot to a free time; it is RESERVED
  /// again. Errors as `Reserve`, and NOT_FOUND, ABORTED for a stale
  /// `expected_revision`, FAILED_PRECONDITION for a slot that is due,
  /// published or cancelled.
  asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Reschedule(
      const v1::RescheduleSlotRequest& r);

  /// Releases a slot that has not gone out (cancelling a cancelled slot
  /// returns it as it is). NOT_FOUND; FAILED_PRECONDITION for a slot that
  /// is due or published.
  asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Cancel(const v1::CancelSlotRequest& r);

  /// The calendar view: slots in the range by time, filtered by channel,
  /// destination, campaign and team, cancelled ones only when asked, paged.
  asio::awaitable<absl::StatusOr<v1::ListSlotsResponse>> List(const v1::ListSlotsRequest& r);

  /// Stores a blackout and answers the reserved slots it holds.
  /// INVALID_ARGUMENT naming every bad field.
  asio::awaitable<absl::StatusOr<v1::CreateBlackoutResponse>> CreateBlackout(
      const v1::CreateBlackoutRequest& r);

  /// Removes a blackout; NOT_FOUND when there is none. The slots it held
  /// are looked at again at once (they go out unless something else holds
  /// them).
  asio::awaitable<absl::Status> DeleteBlackout(const v1::DeleteBlackoutRequest& r);

  /// Blackouts overlapping the range, by start, paged.
  asio::awaitable<absl::StatusOr<v1::ListBlackoutsResponse>> ListBlackouts(
      const v1::ListBlackoutsRequest& r);

  /// approval.completed: APPROVED releases the request's slots, REJECTED
  /// or CANCELLED holds them again.
  asio::awaitable<absl::Status> ApprovalCompleted(const approval::v1::ApprovalCompleted& event);

  /// A slot point came (see SlotTimers): for the slot RESERVED at the
  /// point's revision and time, or HELD at its revision, DUE with
  /// PublishDue when nothing holds it now, else HELD (a blackout over it
  /// arms a point at the blackout's end). A slot moved or cancelled since
  /// gives nullopt (nothing to do); a point already decided gives the same
  /// outcome again, with the same event id. A revision not written yet is
  /// UNAVAILABLE (fired again after its lease) up to kUnwrittenPointLife
  /// after the point's time, then nullopt.
  asio::awaitable<absl::StatusOr<std::optional<FireOutcome>>> Fire(const SlotPoint& point);

  /// `Fire` for the publish point `timer` (the claimer's hook): the event to
  /// publish, if any; nothing for a timer that is not a slot point.
  asio::awaitable<absl::StatusOr<std::optional<kafka::OutgoingEvent>>> FireTimer(
      const StoredTimer& timer);

  /// publish.done: a DUE slot at the answered revision becomes PUBLISHED;
  /// anything else is ignored (OK).
  asio::awaitable<absl::Status> Done(const v1::PublishDone& event);

  /// publish.failed: a DUE slot at the answered revision becomes FAILED.
  asio::awaitable<absl::Status> Failed(const v1::PublishFailed& event);

  /// `slot` with its holds as of now: for a RESERVED slot, what would hold
  /// it at its time; for a HELD one, what holds it now. None for others.
  asio::awaitable<absl::StatusOr<v1::PublishingSlot>> WithHolds(v1::PublishingSlot slot);

 private:
  // What holds a slot at an instant, and until when its blackouts do.
  struct Holds {
    std::vector<v1::SlotHold> holds;
    // The latest end of the blackouts among `holds`; InfinitePast: none.
    absl::Time blackouts_end = absl::InfinitePast();
    // The asset version approved; nullopt while not approved.
    std::optional<uint32_t> approved_version;
  };
  asio::awaitable<absl::StatusOr<Holds>> HoldsAt(const v1::PublishingSlot& slot, absl::Time at);
  // Cancels a point that no slot revision needs any more; a failure only
  // leaves a point that finds nothing to do.
  asio::awaitable<void> Disarm(const SlotPoint& point);
  // Arms a point now for every HELD slot `blackout` covers.
  asio::awaitable<absl::Status> ReleaseHeld(const v1::Blackout& blackout);
  // The gap on `destination`; zero for a tenant the policy lacks.
  absl::Duration GapOf(const std::string& tenant_id, const std::string& destination) const;
  // Conflicts of what the store found in the way, with one suggestion.
  asio::awaitable<absl::StatusOr<std::vector<v1::Conflict>>> ConflictsFor(
      const v1::PublishingSlot& slot, const Obstacles& obstacles, bool in_past);
  // The nearest time at or after `from` free of slots and blackouts.
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> Suggest(const v1::PublishingSlot& slot,
                                                                     absl::Time from);
  // Moves `slot` (at `revision`) to `status`, with `detail`.
  asio::awaitable<absl::StatusOr<v1::PublishingSlot>> Settle(v1::PublishingSlot slot,
                                                             v1::SlotStatus status,
                                                             std::string detail);
  // A DUE slot's answer from a connector.
  asio::awaitable<absl::Status> Answered(const std::string& tenant_id, const std::string& slot_id,
                                         int64_t revision, v1::SlotStatus status,
                                         std::string detail);

  const PolicyHolder& policy_;
  SlotStore& store_;
  SlotTimers& timers_;
  const std::string publishing_topic_;
  const Clock& clock_;
  const std::function<std::string()> new_id_;
};

}  // namespace flywheel::scheduler
