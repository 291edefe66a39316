#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/scheduler/v1/resources.pb.h"

namespace flywheel::scheduler {

class RecurringWorks;
class SlotStore;

/// The calendar journal: a compacted topic holding the last state of every
/// publishing slot, blackout, approved-request mark and recurring work (a
/// tombstone once gone), written by JournaledSlotStore and
/// JournaledRecurringStore. Record keys are `<kind> NUL <tenant> NUL <id>`;
/// values are raw protobuf (not CloudEvents) that name their tenant and id
/// again, so only the kind is read back from a key. The slots' publish points are
/// timers, in the timer journal.
enum class CalendarRecord { kSlot, kBlackout, kApproved, kRecurring };

/// The journal's record key of one thing.
std::string CalendarJournalKey(CalendarRecord kind, const std::string& tenant_id,
                               const std::string& id);

/// Recurring work and its last filed occurrence as a journal value, and
/// back (DATA_LOSS for a value that does not parse).
std::string EncodeJournaledWork(const v1::RecurringWork& work, std::optional<absl::Time> filed);
absl::StatusOr<std::pair<v1::RecurringWork, std::optional<absl::Time>>> DecodeJournaledWork(
    const std::string& value);

/// A request's approved mark (the asset version approved) as a journal
/// value, and back.
struct ApprovedMark {
  std::string tenant_id;
  std::string request_id;
  uint32_t version = 0;
};
std::string EncodeJournaledApproval(const ApprovedMark& mark);
absl::StatusOr<ApprovedMark> DecodeJournaledApproval(const std::string& value);

/// What `RebuildCalendar` wrote back.
struct RebuiltCalendar {
  size_t slots = 0;
  size_t blackouts = 0;
  size_t approvals = 0;
  size_t recurring = 0;
};

/// Writes back to `slots` every slot (its status and revision as they
/// were), blackout and approved mark of `journal` (a journal's last value
/// per key, as `kafka::LatestValues` reads it), and restores every
/// recurring work through `recurring`, which arms its next occurrence
/// again (one that fell due meanwhile files at once, under the key it
/// would have had). A record that does not decode is logged and skipped.
asio::awaitable<absl::StatusOr<RebuiltCalendar>> RebuildCalendar(
    SlotStore& slots, RecurringWorks& recurring, const std::map<std::string, std::string>& journal);

}  // namespace flywheel::scheduler
