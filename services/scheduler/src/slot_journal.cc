#include "slot_journal.h"

#include "absl/strings/str_cat.h"
#include "calendar_journal.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {

JournaledSlotStore::JournaledSlotStore(SlotStore& inner, kafka::Producer& producer,
                                       std::string topic)
    : inner_(inner), journal_(producer, std::move(topic)) {}

asio::awaitable<absl::StatusOr<Obstacles>> JournaledSlotStore::Check(const v1::PublishingSlot& slot,
                                                                     absl::Duration min_gap) {
  co_return co_await inner_.Check(slot, min_gap);
}

asio::awaitable<absl::StatusOr<PutOutcome>> JournaledSlotStore::Put(
    const v1::PublishingSlot& slot, int64_t expected_revision,
    std::optional<absl::Duration> check_gap) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(PutOutcome put,
                               co_await inner_.Put(slot, expected_revision, check_gap));
  if (!put.obstacles.empty()) co_return put;
  // A create that found its id taken journals the stored slot too: it may
  // be the retry of a call whose journal write failed.
  v1::PublishingSlot stored = put.slot;
  stored.clear_holds();
  const std::string what = absl::StrCat("slot '", stored.slot_id(), "'");
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kSlot, stored.tenant_id(), stored.slot_id()),
      stored.SerializeAsString(), what));
  co_return put;
}

asio::awaitable<absl::StatusOr<std::optional<v1::PublishingSlot>>> JournaledSlotStore::Get(
    const std::string& tenant_id, const std::string& slot_id) {
  co_return co_await inner_.Get(tenant_id, slot_id);
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> JournaledSlotStore::List(
    const std::string& tenant_id, absl::Time from, absl::Time to, absl::Time after_time,
    const std::string& after_id, size_t limit) {
  co_return co_await inner_.List(tenant_id, from, to, after_time, after_id, limit);
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> JournaledSlotStore::OnDestination(
    const std::string& tenant_id, const std::string& destination, absl::Time from, absl::Time to) {
  co_return co_await inner_.OnDestination(tenant_id, destination, from, to);
}

asio::awaitable<absl::StatusOr<std::vector<v1::PublishingSlot>>> JournaledSlotStore::PutBlackout(
    const v1::Blackout& blackout) {
  auto held = co_await inner_.PutBlackout(blackout);
  if (!held.ok()) co_return held;
  const std::string what = absl::StrCat("blackout '", blackout.blackout_id(), "'");
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kBlackout, blackout.tenant_id(), blackout.blackout_id()),
      blackout.SerializeAsString(), what));
  co_return held;
}

asio::awaitable<absl::StatusOr<bool>> JournaledSlotStore::DeleteBlackout(
    const std::string& tenant_id, const std::string& blackout_id) {
  auto deleted = co_await inner_.DeleteBlackout(tenant_id, blackout_id);
  if (!deleted.ok()) co_return deleted;
  // Written even when there was none: a retried delete still reaches the
  // journal.
  const std::string what = absl::StrCat("blackout '", blackout_id, "'");
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kBlackout, tenant_id, blackout_id), std::nullopt, what));
  co_return deleted;
}

asio::awaitable<absl::StatusOr<std::vector<v1::Blackout>>> JournaledSlotStore::Blackouts(
    const std::string& tenant_id) {
  co_return co_await inner_.Blackouts(tenant_id);
}

asio::awaitable<absl::Status> JournaledSlotStore::SetApproved(const std::string& tenant_id,
                                                              const std::string& request_id,
                                                              std::optional<uint32_t> version) {
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await inner_.SetApproved(tenant_id, request_id, version));
  std::optional<std::string> value;
  if (version) {
    const ApprovedMark mark = {
        .tenant_id = tenant_id, .request_id = request_id, .version = *version};
    value = EncodeJournaledApproval(mark);
  }
  const std::string what = absl::StrCat("the approval of request '", request_id, "'");
  co_return co_await journal_.Write(
      CalendarJournalKey(CalendarRecord::kApproved, tenant_id, request_id), std::move(value), what);
}

asio::awaitable<absl::StatusOr<std::optional<uint32_t>>> JournaledSlotStore::ApprovedVersion(
    const std::string& tenant_id, const std::string& request_id) {
  co_return co_await inner_.ApprovedVersion(tenant_id, request_id);
}

}  // namespace flywheel::scheduler
