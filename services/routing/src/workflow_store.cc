#include "workflow_store.h"

namespace flywheel::routing {

StoredWorkflow StoredAfterCreate(const StoredWorkflow& wf, const AssignResult& result) {
  StoredWorkflow stored = wf;
  stored.workflow.set_revision(1);
  stored.workflow.set_owner_id(result.assignee);
  for (auto& stage : *stored.workflow.mutable_stages()) {
    if (stage.stage_id() == stored.workflow.current_stage_id()) {
      stage.set_assignee_id(result.assignee);
    }
  }
  stored.queue_reason = result.queue_reason;
  return stored;
}

}  // namespace flywheel::routing
