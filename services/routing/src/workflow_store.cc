#include "workflow_store.h"

namespace flywheel::routing {

StoredWorkflow StoredAfterCreate(StoredWorkflow wf, const AssignResult& result) {
  wf.workflow.set_revision(1);
  wf.workflow.set_owner_id(result.assignee);
  for (auto& stage : *wf.workflow.mutable_stages()) {
    if (stage.stage_id() == wf.workflow.current_stage_id()) stage.set_assignee_id(result.assignee);
  }
  wf.queue_reason = result.queue_reason;
  return wf;
}

StoredWorkflow StoredAfterAssign(const StoredWorkflow& wf, const AssignResult& result,
                                 int64_t revision) {
  StoredWorkflow stored = wf;
  auto& w = stored.workflow;
  w.set_revision(revision);
  if (w.owner_id().empty()) w.set_owner_id(result.assignee);
  for (auto& stage : *w.mutable_stages()) {
    if (stage.stage_id() == w.current_stage_id()) stage.set_assignee_id(result.assignee);
  }
  stored.queue_reason = result.queue_reason;
  return stored;
}

std::vector<absl::StatusOr<AssignResult>> WorkflowStore::CreateAll(
    const std::vector<CreateCall>& calls) {
  std::vector<absl::StatusOr<AssignResult>> out;
  out.reserve(calls.size());
  for (const CreateCall& call : calls) out.push_back(Create(call.wf, call.assign));
  return out;
}

int64_t QueueRank(const routing::v1::WorkflowInstance& workflow) {
  const int64_t priority = workflow.priority() == common::v1::PRIORITY_UNSPECIFIED
                               ? 5
                               : static_cast<int64_t>(workflow.priority());
  const int64_t created_ms =
      workflow.create_time().seconds() * 1000 + workflow.create_time().nanos() / 1'000'000;
  // Below 2^53, so a Redis sorted-set score (a double) holds it exactly.
  return priority * 10'000'000'000'000 + created_ms;
}

}  // namespace flywheel::routing
