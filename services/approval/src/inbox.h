#pragma once

#include <vector>

#include "approval_store.h"
#include "flywheel/approval/v1/resources.pb.h"

namespace flywheel::approval {

/// Every inbox line `chain` calls for: for each active step, each approver
/// who has not decided (designated, through a group, or as escalation
/// owner) and each delegate of one of them, whatever the delegation's
/// period (readers check it against the time they read at). None for a
/// finished chain. Pure.
std::vector<InboxEntry> InboxLines(const v1::ApprovalChain& chain);

/// What a change of a chain from `before` to `after` does to the inbox
/// index: the lines to add (new, or due at another time) and to remove.
struct InboxChange {
  std::vector<InboxEntry> add;
  std::vector<InboxEntry> remove;
};
InboxChange DiffInbox(const std::vector<InboxEntry>& before, const std::vector<InboxEntry>& after);

}  // namespace flywheel::approval
