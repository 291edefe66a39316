#include "inbox.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>

#include "absl/time/time.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::approval {
namespace {

// Steps without an SLA sort after every deadline: a year after they started.
constexpr absl::Duration kNoDeadline = absl::Hours(24 * 365);

int64_t DueMs(const v1::ApprovalStep& step) {
  if (step.has_due_time()) return absl::ToUnixMillis(FromProtoTime(step.due_time()));
  return absl::ToUnixMillis(FromProtoTime(step.activate_time()) + kNoDeadline);
}

auto Key(const InboxEntry& e) { return std::tie(e.approver_id, e.request_id, e.step_id); }

bool KeyLess(const InboxEntry& a, const InboxEntry& b) { return Key(a) < Key(b); }

}  // namespace

std::vector<InboxEntry> InboxLines(const v1::ApprovalChain& chain) {
  std::vector<InboxEntry> lines;
  if (chain.status() != v1::CHAIN_STATUS_PENDING) return lines;
  for (const v1::ApprovalStep& step : chain.steps()) {
    if (step.status() != v1::STEP_STATUS_ACTIVE) continue;
    const int64_t due = DueMs(step);
    std::set<std::string> people;
    for (const v1::ApproverDecision& e : step.approvers()) {
      if (e.decision() != v1::DECISION_UNSPECIFIED) continue;
      people.insert(e.approver_id());
      if (e.escalation_owner()) continue;
      for (const v1::Delegation& d : chain.delegations()) {
        if (d.delegator_id() == e.approver_id()) people.insert(d.delegate_id());
      }
    }
    for (const std::string& person : people) {
      lines.push_back({.approver_id = person,
                       .request_id = chain.request_id(),
                       .step_id = step.step_id(),
                       .due_ms = due});
    }
  }
  std::sort(lines.begin(), lines.end(), KeyLess);
  return lines;
}

InboxChange DiffInbox(const std::vector<InboxEntry>& before, const std::vector<InboxEntry>& after) {
  std::vector<InboxEntry> b = before;
  std::vector<InboxEntry> a = after;
  std::sort(b.begin(), b.end(), KeyLess);
  std::sort(a.begin(), a.end(), KeyLess);
  InboxChange change;
  // A line is added when it is new or its due time moved; removed when its
  // key is gone.
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(change.add),
                      [](const InboxEntry& x, const InboxEntry& y) {
                        return std::tie(x.approver_id, x.request_id, x.step_id, x.due_ms) <
                               std::tie(y.approver_id, y.request_id, y.step_id, y.due_ms);
                      });
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(change.remove),
                      KeyLess);
  return change;
}

}  // namespace flywheel::approval
