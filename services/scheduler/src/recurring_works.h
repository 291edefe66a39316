#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "due_source.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"
#include "recurring_store.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// The idempotency key of the request filed for one occurrence of recurring
/// work: `recurring:<recurrence_id>:<occurrence, RFC 3339 UTC>`, the same
/// for every fire of that occurrence, so intake files it once.
std::string OccurrenceKey(const std::string& recurrence_id, absl::Time occurrence);

/// Recurring work: requests filed with intake on a schedule (the weekly
/// newsletter, every Monday 09:00 in the team's zone). A schedule is an
/// RFC 5545 RRULE in an IANA zone (see Recurrence for daylight saving and
/// what cron-style means here).
///
/// Each occurrence O is armed as a point in `occurrences`, a TimerStore of
/// its own (timer id: the recurrence id; spec.start_time: O), due at
/// O - lead_time (at once when that is past). When it fires, a
/// RequestSubmissionReceived goes to intake's submissions topic with the
/// key `OccurrenceKey` (a fire repeated after a lost lease files nothing
/// new), the spec's due_time set to O when lead_time is positive (cleared
/// when it is zero: the request is filed at O and has no due time), and the
/// next occurrence after both O and now is armed: occurrences missed while
/// no scheduler ran are skipped, except the one fired late.
///
/// The work in `works` is what counts: a fired point that no longer
/// matches the work's next occurrence (changed, disabled or deleted since)
/// files nothing and is moved to the work's next occurrence or removed.
/// Thread-safe; every coroutine runs on the caller's executor.
class RecurringWorks final : public DueSource {
 public:
  /// `on_armed` is told each newly armed due time (a claimer sleeping past
  /// it wakes); may be empty.
  RecurringWorks(RecurringStore& works, TimerStore& occurrences, kafka::EventPublisher& publisher,
                 std::string submissions_topic, const Clock& clock,
                 std::function<void(absl::Time)> on_armed = nullptr);

  /// Creates or replaces the work and arms its next occurrence after now
  /// and after the last one filed (none while disabled). INVALID_ARGUMENT
  /// naming every bad field, nothing stored: no tenant or id, an id not of
  /// letters, digits, `_`, `-`, `.` (at most 100), no start_time, an
  /// unknown time zone, a rule libical cannot read or that never fires
  /// after now, a negative lead_time or one over 366 days, no spec or no
  /// spec.request_type_id. ABORTED for a stale `expected_revision`,
  /// NOT_FOUND for one and no such work.
  asio::awaitable<absl::StatusOr<v1::RecurringWork>> Upsert(
      const v1::UpsertRecurringWorkRequest& request);

  /// The tenant's work by id, paged by the convention of common.proto.
  asio::awaitable<absl::StatusOr<v1::ListRecurringWorkResponse>> List(
      const v1::ListRecurringWorkRequest& request);

  /// Deletes the work and its armed occurrence. NOT_FOUND when there is none.
  asio::awaitable<absl::Status> Delete(const v1::DeleteRecurringWorkRequest& request);

  /// Writes `work` back to the store as it was (its revision, next
  /// occurrence and last filed `filed`, as the calendar journal kept them)
  /// and arms that next occurrence again: one that fell due meanwhile fires
  /// at once and files under the key it would have had. What a rebuild
  /// after Redis lost its state does.
  asio::awaitable<absl::Status> Restore(const v1::RecurringWork& work,
                                        std::optional<absl::Time> filed);

  /// Claims up to `max` due occurrences; the batch's `fire` files each
  /// one's intake request and arms the work's next occurrence.
  asio::awaitable<absl::StatusOr<ClaimedBatch>> ClaimDue(size_t max, absl::Duration lease) override;
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override;

 private:
  // Arms the work's next occurrence, or removes the armed one when it has
  // none (disabled, or its rule has ended).
  asio::awaitable<absl::Status> ArmNext(const v1::RecurringWork& work);
  // Files the occurrences claimed at `now` and moves each work on.
  asio::awaitable<absl::Status> Fire(std::vector<ClaimedTimer> claimed, absl::Time now);

  RecurringStore& works_;
  TimerStore& occurrences_;
  kafka::EventPublisher& publisher_;
  const std::string submissions_topic_;
  const Clock& clock_;
  const std::function<void(absl::Time)> on_armed_;
};

}  // namespace flywheel::scheduler
