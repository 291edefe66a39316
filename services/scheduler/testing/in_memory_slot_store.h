#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "slot_store.h"

namespace flywheel::scheduler {

/// The test fake of SlotStore, in process memory: the same outcomes as
/// RedisSlotStore, held to it by slot_store_contract_test.cc. `fail_with`
/// makes every call fail. Thread-safe.
class InMemorySlotStore final : public SlotStore {
 public:
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

  /// When not OK, every call returns it (set before the calls, from the
  /// test's thread).
  absl::Status fail_with;

 private:
  using Key = std::pair<std::string, std::string>;

  // Callers hold mu_.
  Obstacles ObstaclesOf(const v1::PublishingSlot& slot, absl::Duration min_gap) const;
  std::vector<v1::PublishingSlot> Sorted(const std::string& tenant_id, absl::Time from,
                                         absl::Time to) const;

  mutable std::mutex mu_;
  std::map<Key, v1::PublishingSlot> slots_;
  std::map<Key, v1::Blackout> blackouts_;
  std::map<Key, uint32_t> approved_;
};

}  // namespace flywheel::scheduler
