#include "fake_workflow_store.h"

#include <algorithm>
#include <tuple>

namespace flywheel::routing {

#define FAKE_CHECK_FAILURE() \
  if (!fail_with.ok()) return fail_with

AssignResult FakeWorkflowStore::Place(Entry& e, Team& team, const AssignSpec& assign) {
  const std::string& id = e.wf.workflow.request_id();
  std::optional<std::string> best =
      PickMember(assign.strategy, assign.candidates, team.load, team.last);
  auto queued = std::find(team.queue.begin(), team.queue.end(), id);
  if (best) {
    ++team.load[*best];
    if (assign.strategy == Strategy::kRoundRobin) team.last = *best;
    team.open.insert(id);
    if (queued != team.queue.end()) team.queue.erase(queued);
    team.reasons.erase(id);
    e.assignee = *best;
    if (e.owner.empty()) e.owner = *best;
    e.wf.queue_reason.clear();
    return {.changed = true, .assignee = *best};
  }
  std::string reason = assign.candidates.empty() ? assign.reason_if_none : kAllAtWipLimit;
  if (queued == team.queue.end()) team.queue.push_back(id);
  team.reasons[id] = reason;
  e.assignee.clear();
  e.wf.queue_reason = reason;
  return {.changed = true, .queue_reason = reason};
}

template <typename Ids>
std::vector<QueueEntry> FakeWorkflowStore::Ranked(const std::string& tenant, const Ids& ids) {
  std::vector<QueueEntry> out;
  for (const std::string& id : ids) {
    auto it = workflows_.find(tenant + "/" + id);
    out.push_back(
        {.request_id = id, .rank = it == workflows_.end() ? 0 : QueueRank(it->second.wf.workflow)});
  }
  std::sort(out.begin(), out.end(), [](const QueueEntry& a, const QueueEntry& b) {
    return std::tie(a.rank, a.request_id) < std::tie(b.rank, b.request_id);
  });
  return out;
}

absl::StatusOr<AssignResult> FakeWorkflowStore::Create(const StoredWorkflow& wf,
                                                       const AssignSpec& assign) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = wf.workflow.tenant_id() + "/" + wf.workflow.request_id();
  tenants_.insert(wf.workflow.tenant_id());
  if (auto it = workflows_.find(key); it != workflows_.end()) {
    return AssignResult{.assignee = it->second.assignee,
                        .queue_reason = it->second.wf.queue_reason};
  }
  if (cancelled_.count(key) > 0) return AssignResult{.cancelled = true};
  Entry& e = workflows_[key];
  e.wf = wf;
  AssignResult result = Place(e, TeamOf(wf.workflow.tenant_id(), wf.workflow.team_id()), assign);
  e.first = StoredAfterCreate(wf, result);
  return result;
}

absl::StatusOr<std::optional<StoredWorkflow>> FakeWorkflowStore::FindFirst(
    const std::string& tenant_id, const std::string& request_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workflows_.find(tenant_id + "/" + request_id);
  if (it == workflows_.end()) return std::nullopt;
  return it->second.first;
}

absl::StatusOr<std::optional<StoredWorkflow>> FakeWorkflowStore::Find(
    const std::string& tenant_id, const std::string& request_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workflows_.find(tenant_id + "/" + request_id);
  if (it == workflows_.end()) return std::nullopt;
  return View(it->second);
}

StoredWorkflow FakeWorkflowStore::View(const Entry& e) {
  StoredWorkflow out = e.wf;
  out.workflow.set_revision(e.revision);
  out.workflow.set_owner_id(e.owner);
  for (auto& stage : *out.workflow.mutable_stages()) {
    if (stage.stage_id() == out.workflow.current_stage_id()) stage.set_assignee_id(e.assignee);
  }
  return out;
}

Committed FakeWorkflowStore::Done(Entry& e, const AssignResult& result, const EventsFor& events) {
  Committed out{.result = result, .after = View(e)};
  if (!out.after.last_advance_request.empty()) {
    out.after.last_advance_answer = out.after.workflow;
    e.wf.last_advance_answer = out.after.workflow;
  }
  out.events = events(out.after, result);
  outbox_.Store(out.after.workflow.tenant_id(), out.events);
  return out;
}

absl::StatusOr<Committed> FakeWorkflowStore::Advance(const StoredWorkflow& next,
                                                     int64_t expected_revision,
                                                     const AssignSpec& assign,
                                                     const EventsFor& events) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& tenant = next.workflow.tenant_id();
  const std::string& id = next.workflow.request_id();
  auto it = workflows_.find(tenant + "/" + id);
  if (it == workflows_.end() || it->second.revision != expected_revision) {
    return Committed{.outcome = Committed::Outcome::kStale};
  }
  if (outbox_.Busy(tenant, id)) return Committed{.outcome = Committed::Outcome::kOutboxPending};
  Entry& e = it->second;
  Team& team = TeamOf(tenant, next.workflow.team_id());
  const std::string prev = e.assignee;
  if (!prev.empty()) {
    team.load[prev] = std::max(0, team.load[prev] - 1);
    team.open.erase(id);
  } else {
    team.queue.erase(std::remove(team.queue.begin(), team.queue.end(), id), team.queue.end());
    team.reasons.erase(id);
  }
  e.wf = next;
  ++e.revision;
  AssignResult result;
  if (next.workflow.status() == routing::v1::WORKFLOW_STATUS_ACTIVE) {
    result = Place(e, team, assign);
  } else {
    e.assignee.clear();
    e.wf.queue_reason.clear();
    result.changed = true;
  }
  result.previous_assignee = prev;
  return Done(e, result, events);
}

absl::Status FakeWorkflowStore::Refresh(const StoredWorkflow& next, int64_t expected_revision) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workflows_.find(next.workflow.tenant_id() + "/" + next.workflow.request_id());
  if (it == workflows_.end() || it->second.revision != expected_revision) {
    return absl::AbortedError("workflow changed meanwhile; retry");
  }
  // The assignment and queue reason stay the store's; ranks follow the
  // workflow's priority when read.
  const std::string queue_reason = it->second.wf.queue_reason;
  it->second.wf = next;
  it->second.wf.queue_reason = queue_reason;
  ++it->second.revision;
  return absl::OkStatus();
}

absl::Status FakeWorkflowStore::RememberCancel(const std::string& tenant_id,
                                               const std::string& request_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_.insert(tenant_id + "/" + request_id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakeWorkflowStore::Tenants() {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<std::string>(tenants_.begin(), tenants_.end());
}

absl::StatusOr<Committed> FakeWorkflowStore::AssignQueued(const StoredWorkflow& wf,
                                                          const AssignSpec& assign,
                                                          const EventsFor& events) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& tenant = wf.workflow.tenant_id();
  const std::string& id = wf.workflow.request_id();
  Team& team = TeamOf(tenant, wf.workflow.team_id());
  auto it = workflows_.find(tenant + "/" + id);
  if (it == workflows_.end() ||
      std::find(team.queue.begin(), team.queue.end(), id) == team.queue.end() ||
      !it->second.assignee.empty()) {
    return Committed{};
  }
  Entry& e = it->second;
  if (e.revision != wf.workflow.revision()) return Committed{.outcome = Committed::Outcome::kStale};
  if (!PickMember(assign.strategy, assign.candidates, team.load, team.last)) {
    AssignResult r = Place(e, team, assign);  // only the reason changes
    return Committed{.result = {.queue_reason = r.queue_reason}};
  }
  if (outbox_.Busy(tenant, id)) return Committed{.outcome = Committed::Outcome::kOutboxPending};
  AssignResult r = Place(e, team, assign);
  ++e.revision;
  return Done(e, r, events);
}

absl::StatusOr<bool> FakeWorkflowStore::Unassign(const std::string& tenant_id,
                                                 const std::string& team_id,
                                                 const std::string& request_id,
                                                 const std::string& expected_assignee,
                                                 const std::string& reason) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  Team& team = TeamOf(tenant_id, team_id);
  auto it = workflows_.find(tenant_id + "/" + request_id);
  if (it == workflows_.end() || team.open.count(request_id) == 0) return false;
  Entry& e = it->second;
  if (e.assignee != expected_assignee) return false;
  team.load[e.assignee] = std::max(0, team.load[e.assignee] - 1);
  team.open.erase(request_id);
  team.queue.push_back(request_id);
  team.reasons[request_id] = reason;
  e.assignee.clear();
  e.wf.queue_reason = reason;
  ++e.revision;
  return true;
}

absl::StatusOr<std::vector<QueueEntry>> FakeWorkflowStore::Queue(const std::string& tenant_id,
                                                                 const std::string& team_id,
                                                                 size_t limit) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  Team& team = TeamOf(tenant_id, team_id);
  std::vector<QueueEntry> out = Ranked(tenant_id, team.queue);
  if (out.size() > limit) out.resize(limit);
  for (QueueEntry& e : out) e.reason = team.reasons[e.request_id];
  return out;
}

absl::StatusOr<size_t> FakeWorkflowStore::QueueSize(const std::string& tenant_id,
                                                    const std::string& team_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  return TeamOf(tenant_id, team_id).queue.size();
}

absl::StatusOr<std::vector<QueueEntry>> FakeWorkflowStore::OpenRequests(
    const std::string& tenant_id, const std::string& team_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  return Ranked(tenant_id, TeamOf(tenant_id, team_id).open);
}

absl::StatusOr<std::map<std::string, int>> FakeWorkflowStore::Loads(const std::string& tenant_id,
                                                                    const std::string& team_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  return TeamOf(tenant_id, team_id).load;
}

absl::StatusOr<std::map<std::string, std::optional<MemberSpec>>> FakeWorkflowStore::MemberOverrides(
    const std::string& tenant_id, const std::string& team_id) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  return TeamOf(tenant_id, team_id).members;
}

absl::Status FakeWorkflowStore::PutMember(const std::string& tenant_id, const std::string& team_id,
                                          const MemberSpec& member,
                                          std::vector<kafka::OutgoingEvent>& events) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  TeamOf(tenant_id, team_id).members[member.id] = member;
  outbox_.Store(tenant_id, events);
  return absl::OkStatus();
}

absl::Status FakeWorkflowStore::RemoveMember(const std::string& tenant_id,
                                             const std::string& team_id,
                                             const std::string& member_id,
                                             std::vector<kafka::OutgoingEvent>& events) {
  FAKE_CHECK_FAILURE();
  std::lock_guard<std::mutex> lock(mu_);
  TeamOf(tenant_id, team_id).members[member_id] = std::nullopt;
  outbox_.Store(tenant_id, events);
  return absl::OkStatus();
}

}  // namespace flywheel::routing
