#pragma once

#include "flywheel/kafka/producer.h"
#include "journal_writer.h"
#include "recurring_store.h"

namespace flywheel::scheduler {

/// A recurring store that writes every change it makes to the calendar
/// journal (see calendar_journal.h): the work as stored after a put or an
/// advance, with its next and last filed occurrence, and a tombstone once
/// deleted. `RebuildCalendar` restores them after Redis lost them.
///
/// Each change is made in `inner` first, then read back and journaled, so
/// the record is the work's whole state; a call returns only once the
/// broker acknowledged it (UNAVAILABLE when it did not: the change stands
/// and the journal misses it until the work's next change). Reads and
/// `Restore` (which writes back what the journal holds) go to `inner` as
/// they are. `inner` must outlive it. Thread-safe, like `inner`.
class JournaledRecurringStore final : public RecurringStore {
 public:
  /// `topic` is the full (prefixed) name of the calendar journal.
  JournaledRecurringStore(RecurringStore& inner, kafka::Producer& producer, std::string topic);

  asio::awaitable<absl::StatusOr<v1::RecurringWork>> Put(const v1::RecurringWork& work,
                                                         int64_t expected_revision) override;
  asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>> Get(
      const std::string& tenant_id, const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<std::vector<v1::RecurringWork>>> List(const std::string& tenant_id,
                                                                       const std::string& after_id,
                                                                       size_t limit) override;
  asio::awaitable<absl::StatusOr<bool>> Delete(const std::string& tenant_id,
                                               const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> LastFiled(
      const std::string& tenant_id, const std::string& recurrence_id) override;
  asio::awaitable<absl::StatusOr<bool>> Advance(const std::string& tenant_id,
                                                const std::string& recurrence_id, absl::Time from,
                                                std::optional<absl::Time> to) override;
  asio::awaitable<absl::Status> Restore(const v1::RecurringWork& work,
                                        std::optional<absl::Time> filed) override;

 private:
  // Journals the work's state as `inner` holds it now (a tombstone when it
  // holds none).
  asio::awaitable<absl::Status> WriteCurrent(const std::string& tenant_id,
                                             const std::string& recurrence_id);

  RecurringStore& inner_;
  JournalWriter journal_;
};

}  // namespace flywheel::scheduler
