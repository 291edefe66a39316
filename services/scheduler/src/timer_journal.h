#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/kafka/producer.h"
#include "forwarding_timer_store.h"
#include "journal_writer.h"

namespace flywheel::scheduler {

/// A timer store that writes every change it makes to a compacted Kafka
/// topic (the journal): the timer's state after an arm, pause, resume or
/// completion, a tombstone when it is gone. The journal is what
/// `RebuildTimers` arms again after Redis lost its timers.
///
/// Each change is written to Redis first, then to the journal; a call
/// returns only once the broker acknowledged the record (UNAVAILABLE when
/// it did not: the change stands in Redis and the journal misses it until
/// the timer's next change). A claim changes nothing the journal keeps.
/// One timer's records go to one partition (keyed by tenant and timer), in
/// the order this replica made the changes.
class JournaledTimerStore final : public ForwardingTimerStore {
 public:
  /// `topic` is the full (prefixed) name of the journal.
  JournaledTimerStore(TimerStore& inner, kafka::Producer& producer, std::string topic);

  asio::awaitable<absl::StatusOr<StoredTimer>> Arm(const TimerArm& arm) override;
  asio::awaitable<absl::StatusOr<bool>> Cancel(const std::string& tenant_id,
                                               const std::string& timer_id) override;
  asio::awaitable<absl::StatusOr<StoredTimer>> Pause(const std::string& tenant_id,
                                                     const std::string& timer_id,
                                                     absl::Time now) override;
  asio::awaitable<absl::StatusOr<StoredTimer>> Resume(const std::string& tenant_id,
                                                      const std::string& timer_id,
                                                      const FirePoint& next,
                                                      uint32_t expected_revision) override;
  /// Every completion that stands is journaled, the whole batch in one send;
  /// their statuses are UNAVAILABLE when the send was not acknowledged.
  asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) override;

 private:
  // Writes `timer`'s state, or with nullopt its tombstone.
  asio::awaitable<absl::Status> Write(const std::string& tenant_id, const std::string& timer_id,
                                      const std::optional<StoredTimer>& timer);
  asio::awaitable<absl::StatusOr<StoredTimer>> Written(absl::StatusOr<StoredTimer> changed);

  JournalWriter journal_;
};

/// The journal's record key of a timer.
std::string JournalKey(const std::string& tenant_id, const std::string& timer_id);

/// A timer's state as a journal record's value, and back (DATA_LOSS for a
/// value that does not parse). The revision is not kept.
std::string EncodeJournaled(const StoredTimer& timer);
absl::StatusOr<StoredTimer> DecodeJournaled(const std::string& value);

/// Arms again in `store` every timer of `journal` (a journal's last value
/// per key, as `kafka::LatestValues` reads it), paused ones paused again at
/// the time they were, each with the point it had: a point that fell due
/// meanwhile fires at once, under the id it would have had. Publishing
/// slots' points (PointKind::kPublish) go to `publish_points` instead (they
/// are no request's SLA timers, so no request index lists them). Returns
/// how many were armed; a value that does not decode is logged and skipped.
asio::awaitable<absl::StatusOr<size_t>> RebuildTimers(
    TimerStore& store, TimerStore& publish_points,
    const std::map<std::string, std::string>& journal);

}  // namespace flywheel::scheduler
