#include "calendar_journal.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "recurring_works.h"
#include "slot_store.h"
#include "stored_calendar.pb.h"

namespace flywheel::scheduler {
namespace {

constexpr char kSlotKind[] = "slot";
constexpr char kBlackoutKind[] = "blackout";
constexpr char kApprovedKind[] = "approved";
constexpr char kRecurringKind[] = "recurring";

const char* KindName(CalendarRecord kind) {
  switch (kind) {
    case CalendarRecord::kSlot:
      return kSlotKind;
    case CalendarRecord::kBlackout:
      return kBlackoutKind;
    case CalendarRecord::kApproved:
      return kApprovedKind;
    case CalendarRecord::kRecurring:
      return kRecurringKind;
  }
  return "";
}

// Writes back one record; false (logged by the caller) when it does not
// decode.
asio::awaitable<absl::StatusOr<bool>> RestoreOne(SlotStore& slots, RecurringWorks& recurring,
                                                 const std::string& key, const std::string& value,
                                                 RebuiltCalendar& rebuilt) {
  const std::string kind = key.substr(0, key.find('\0'));
  if (kind == kSlotKind) {
    v1::PublishingSlot slot;
    if (!slot.ParseFromString(value)) co_return false;
    // Created as it was (status and revision): a slot still there is kept.
    FLYWHEEL_CO_ASSIGN_OR_RETURN(PutOutcome put, co_await slots.Put(slot, 0, std::nullopt));
    (void)put;
    ++rebuilt.slots;
  } else if (kind == kBlackoutKind) {
    v1::Blackout blackout;
    if (!blackout.ParseFromString(value)) co_return false;
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::PublishingSlot> held,
                                 co_await slots.PutBlackout(blackout));
    (void)held;
    ++rebuilt.blackouts;
  } else if (kind == kApprovedKind) {
    absl::StatusOr<ApprovedMark> mark = DecodeJournaledApproval(value);
    if (!mark.ok()) co_return false;
    const std::optional<uint32_t> version = mark->version;
    FLYWHEEL_CO_RETURN_IF_ERROR(
        co_await slots.SetApproved(mark->tenant_id, mark->request_id, version));
    ++rebuilt.approvals;
  } else if (kind == kRecurringKind) {
    auto work = DecodeJournaledWork(value);
    if (!work.ok()) co_return false;
    FLYWHEEL_CO_RETURN_IF_ERROR(co_await recurring.Restore(work->first, work->second));
    ++rebuilt.recurring;
  } else {
    co_return false;
  }
  co_return true;
}

}  // namespace

std::string CalendarJournalKey(CalendarRecord kind, const std::string& tenant_id,
                               const std::string& id) {
  const std::string nul(1, '\0');
  return absl::StrCat(KindName(kind), nul, tenant_id, nul, id);
}

std::string EncodeJournaledWork(const v1::RecurringWork& work, std::optional<absl::Time> filed) {
  stored::JournaledRecurringWork journaled;
  journaled.set_work(work.SerializeAsString());
  if (filed) journaled.set_last_filed_ms(absl::ToUnixMillis(*filed));
  return journaled.SerializeAsString();
}

absl::StatusOr<std::pair<v1::RecurringWork, std::optional<absl::Time>>> DecodeJournaledWork(
    const std::string& value) {
  stored::JournaledRecurringWork journaled;
  v1::RecurringWork work;
  if (!journaled.ParseFromString(value) || !work.ParseFromString(journaled.work())) {
    return absl::DataLossError(
        absl::StrCat("journaled recurring work of ", value.size(), " bytes does not parse"));
  }
  std::optional<absl::Time> filed;
  if (journaled.has_last_filed_ms()) filed = absl::FromUnixMillis(journaled.last_filed_ms());
  return std::make_pair(std::move(work), filed);
}

std::string EncodeJournaledApproval(const ApprovedMark& mark) {
  stored::JournaledApproval journaled;
  journaled.set_tenant_id(mark.tenant_id);
  journaled.set_request_id(mark.request_id);
  journaled.set_version(mark.version);
  return journaled.SerializeAsString();
}

absl::StatusOr<ApprovedMark> DecodeJournaledApproval(const std::string& value) {
  stored::JournaledApproval journaled;
  if (!journaled.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("a journaled approval of ", value.size(), " bytes does not parse"));
  }
  return ApprovedMark{.tenant_id = journaled.tenant_id(),
                      .request_id = journaled.request_id(),
                      .version = journaled.version()};
}

asio::awaitable<absl::StatusOr<RebuiltCalendar>> RebuildCalendar(
    SlotStore& slots, RecurringWorks& recurring,
    const std::map<std::string, std::string>& journal) {
  RebuiltCalendar rebuilt;
  for (const auto& [key, value] : journal) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(bool restored,
                                 co_await RestoreOne(slots, recurring, key, value, rebuilt));
    if (!restored) {
      log::Error("a calendar journal record is skipped: it does not decode",
                 {{"key_bytes", key.size()}, {"value_bytes", value.size()}});
    }
  }
  co_return rebuilt;
}

}  // namespace flywheel::scheduler
