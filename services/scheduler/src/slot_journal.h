#pragma once

#include "flywheel/kafka/producer.h"
#include "journal_writer.h"
#include "slot_store.h"

namespace flywheel::scheduler {

/// A slot store that writes every change it makes to the calendar journal
/// (see calendar_journal.h): a slot as stored after a write, a blackout as
/// put or a tombstone once deleted, a request's approved mark or its
/// tombstone. `RebuildCalendar` writes them back after Redis lost them.
///
/// Each change is made in `inner` first, then journaled; a call returns
/// only once the broker acknowledged the record (UNAVAILABLE when it did
/// not: the change stands and the journal misses it until that thing's
/// next change or the call's retry). Reads go to `inner` as they are.
/// `inner` must outlive it. Thread-safe, like `inner`.
class JournaledSlotStore final : public SlotStore {
 public:
  /// `topic` is the full (prefixed) name of the calendar journal.
  JournaledSlotStore(SlotStore& inner, kafka::Producer& producer, std::string topic);

  asio::awaitable<absl::StatusOr<Obstacles>> Check(const v1::PublishingSlot& slot,
                                                   absl::Duration min_gap) override;
  asio::awaitable<absl::StatusOr<PutOutcome>> Put(const v1::PublishingSlot& slot,
                                                  int64_t expected_revision,
                                                  std::optional<absl::Duration> check_gap) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> Get(
      const std::string& tenant_id, const std::string& slot_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> List(
      const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
      const std::string& after_id, size_t limit) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> OnDestination(
      const std::string& tenant_id, const std::string& destination, absl::Time from,
      absl::Time to) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> PutBlackout(
      const v1::Blackout& blackout) override;
  asio::awaitable<absl::StatusOr<bool>> DeleteBlackout(const std::string& tenant_id,
                                                       const std::string& blackout_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> Blackouts(
      const std::string& tenant_id) override;
  asio::awaitable<absl::Status> SetApproved(const std::string& tenant_id,
                                            const std::string& request_id,
                                            std::optional<uint32_t> version) override;
  asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> ApprovedVersion(
      const std::string& tenant_id, const std::string& request_id) override;

 private:
  SlotStore& inner_;
  JournalWriter journal_;
};

}  // namespace flywheel::scheduler
