#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/scheduler/v1/resources.pb.h"

namespace flywheel::scheduler {

/// Whether a slot in `status` takes its place on its destination's
/// calendar, so that other slots keep their distance from it: RESERVED, DUE
/// and PUBLISHED do; CANCELLED, HELD and FAILED do not.
bool Occupies(v1::SlotStatus status);

/// Whether `blackout` covers an instant on `channel` and `destination`.
bool Covers(const v1::Blackout& blackout, absl::Time at, common::v1::Channel channel,
            const std::string& destination);

/// What stands in the way of a slot's time.
struct Obstacles {
  /// Occupying slots on the same destination closer than the gap, by time.
  std::vector<v1::PublishingSlot> too_close;
  /// Blackouts covering the time on the slot's channel and destination.
  std::vector<v1::Blackout> blackouts;

  /// True when nothing is in the way.
  bool empty() const { return too_close.empty() && blackouts.empty(); }
};

/// What `Put` did.
struct PutOutcome {
  /// The slot as stored after the call: the one written, or for a create
  /// whose id existed already, the one stored before (nothing written).
  v1::PublishingSlot slot;
  /// True when the call wrote nothing because the id existed (a retried
  /// create).
  bool existed = false;
  /// Non-empty when the time was checked and something was in the way:
  /// nothing was written.
  Obstacles obstacles;
};

/// Where the publishing calendar lives: slots by tenant and destination,
/// ordered by publish time, the tenant's blackouts and the requests whose
/// approval completed. Every check of a slot's time and the write that
/// follows it are one atomic step, so two callers never both take the
/// same gap. Times are kept to the millisecond. Failures of the backing
/// store are UNAVAILABLE. Thread-safe.
///
/// Every operation is a coroutine; arguments passed by reference must live
/// until it completes (`co_await` it at once).
class SlotStore {
 public:
  virtual ~SlotStore() = default;

  /// The obstacles of `slot`'s time (its tenant, channel, destination and
  /// publish time), ignoring the slot with `slot.slot_id()` itself: slots
  /// closer than `min_gap` (none when it is zero) and blackouts. Writes
  /// nothing.
  virtual asio::awaitable<absl::StatusOr<Obstacles>> Check(const v1::PublishingSlot& slot,
                                                           absl::Duration min_gap) = 0;

  /// Writes `slot` (its `revision` is the new one, `holds` are not kept).
  /// With `expected_revision` 0 it creates the slot, or returns the stored
  /// one with `existed` when its id is taken; otherwise it replaces the
  /// slot if its stored revision is `expected_revision` (ABORTED when it is
  /// another, NOT_FOUND when there is none). With `check_gap`, the time is
  /// checked as `Check` does first, and any obstacle means nothing is
  /// written. INVALID_ARGUMENT for an empty tenant, slot id or destination.
  virtual asio::awaitable<absl::StatusOr<PutOutcome>> Put(
      const v1::PublishingSlot& slot, int64_t expected_revision,
      std::optional<absl::Duration> check_gap) = 0;

  /// The slot, or nullopt.
  virtual asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> Get(
      const std::string& tenant_id, const std::string& slot_id) = 0;

  /// Up to `limit` of the tenant's slots (every status) with a publish time
  /// in [from, to), ordered by time then id, starting after the slot at
  /// (`after_time`, `after_id`) when `after_id` is not empty.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> List(
      const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
      const std::string& after_id, size_t limit) = 0;

  /// The occupying slots of `destination` with a time in [from, to), by time.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> OnDestination(
      const std::string& tenant_id, const std::string& destination, absl::Time from,
      absl::Time to) = 0;

  /// Stores the blackout (replacing one with its id) and returns, in the
  /// same atomic step, the RESERVED slots it covers, by time.
  /// INVALID_ARGUMENT for an empty tenant or id, or a range that ends
  /// before it starts.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> PutBlackout(
      const v1::Blackout& blackout) = 0;

  /// Removes the blackout; false when there was none.
  virtual asio::awaitable<absl::StatusOr<bool>> DeleteBlackout(const std::string& tenant_id,
                                                               const std::string& blackout_id) = 0;

  /// Every blackout of the tenant, by start time then id.
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> Blackouts(
      const std::string& tenant_id) = 0;

  /// Records that the request's approval completed as APPROVED for the
  /// asset `version` it names (0: none), or with nullopt that it no longer
  /// stands (rejected or cancelled afterwards).
  virtual asio::awaitable<absl::Status> SetApproved(const std::string& tenant_id,
                                                    const std::string& request_id,
                                                    std::optional<uint32_t> version) = 0;

  /// The asset version the request's approval approved; nullopt when it
  /// has not completed as APPROVED.
  virtual asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> ApprovedVersion(
      const std::string& tenant_id, const std::string& request_id) = 0;
};

/// INVALID_ARGUMENT naming what `Put` refuses in `slot`.
absl::Status CheckSlotIdentity(const v1::PublishingSlot& slot);

/// INVALID_ARGUMENT naming what `PutBlackout` refuses in `blackout`.
absl::Status CheckBlackoutIdentity(const v1::Blackout& blackout);

/// `time` cut to the millisecond (towards the past), as stores keep it.
absl::Time ToSlotTime(absl::Time time);

/// The publish time of `slot`, as stored.
absl::Time PublishTimeOf(const v1::PublishingSlot& slot);

}  // namespace flywheel::scheduler
