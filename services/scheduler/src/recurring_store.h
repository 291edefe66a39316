#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/scheduler/v1/resources.pb.h"

namespace flywheel::scheduler {

/// Where recurring work lives: each work with its revision, its next
/// occurrence and the last occurrence filed. The occurrences themselves are
/// armed elsewhere (RecurringWorks' timer store). Times are kept to the
/// millisecond. Failures of the backing store are UNAVAILABLE. Thread-safe;
/// arguments by reference must live until the coroutine completes.
class RecurringStore {
 public:
  virtual ~RecurringStore() = default;

  /// Stores `work` (its `revision` is ignored; `next_occurrence_time` is
  /// kept, unset for none) when the stored revision is `expected_revision`,
  /// or whatever it is for 0. Returns it as stored, with its new revision
  /// (1 for new work). NOT_FOUND for an `expected_revision` and no such
  /// work; ABORTED when the revision differs.
  virtual asio::awaitable<absl::StatusOr<v1::RecurringWork>> Put(const v1::RecurringWork& work,
                                                                 int64_t expected_revision) = 0;

  /// The work, or nullopt when there is none.
  virtual asio::awaitable<absl::StatusOr<std::optional<v1::RecurringWork>>> Get(
      const std::string& tenant_id, const std::string& recurrence_id) = 0;

  /// Up to `limit` of the tenant's works with ids after `after_id` (all for
  /// empty), ordered by id (bytes).
  virtual asio::awaitable<absl::StatusOr<std::vector<v1::RecurringWork>>> List(
      const std::string& tenant_id, const std::string& after_id, size_t limit) = 0;

  /// Removes the work; false when there was none.
  virtual asio::awaitable<absl::StatusOr<bool>> Delete(const std::string& tenant_id,
                                                       const std::string& recurrence_id) = 0;

  /// The last occurrence filed for the work (by `Advance`); nullopt before
  /// the first, or when there is no such work.
  virtual asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> LastFiled(
      const std::string& tenant_id, const std::string& recurrence_id) = 0;

  /// Moves the work's next occurrence from `from` to `to` (nullopt: none)
  /// if it is still `from`, and records `from` as the last filed: what
  /// firing an occurrence does, without a new revision. False when it is
  /// not (the work was changed or deleted since).
  virtual asio::awaitable<absl::StatusOr<bool>> Advance(const std::string& tenant_id,
                                                        const std::string& recurrence_id,
                                                        absl::Time from,
                                                        std::optional<absl::Time> to) = 0;

  /// Writes `work` back as it was: its revision and next occurrence as
  /// given, `filed` as the last filed, replacing whatever is stored. What a
  /// rebuild from the journal does.
  virtual asio::awaitable<absl::Status> Restore(const v1::RecurringWork& work,
                                                std::optional<absl::Time> filed) = 0;
};

}  // namespace flywheel::scheduler
