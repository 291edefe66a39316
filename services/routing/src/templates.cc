#include "templates.h"

#include "flywheel/core/proto_time.h"

namespace flywheel::routing {
namespace {

void Enter(routing::v1::StageInstance& stage, absl::Time now, absl::Duration sla) {
  stage.set_status(routing::v1::STAGE_STATUS_ACTIVE);
  *stage.mutable_enter_time() = ToProtoTime(now);
  if (sla > absl::ZeroDuration()) *stage.mutable_due_time() = ToProtoTime(now + sla);
}

}  // namespace

routing::v1::WorkflowInstance BuildWorkflow(const WorkflowTemplate& tmpl,
                                            const intake::v1::Request& request, int tier,
                                            absl::Time now) {
  routing::v1::WorkflowInstance wf;
  wf.set_tenant_id(request.tenant_id());
  wf.set_request_id(request.request_id());
  wf.set_template_id(tmpl.id);
  wf.set_status(routing::v1::WORKFLOW_STATUS_ACTIVE);
  wf.set_priority(request.priority());
  *wf.mutable_create_time() = ToProtoTime(now);
  *wf.mutable_update_time() = ToProtoTime(now);
  wf.set_revision(1);
  bool entered = false;
  for (const StageTemplate& st : tmpl.stages) {
    routing::v1::StageInstance* stage = wf.add_stages();
    stage->set_stage_id(st.id);
    stage->set_stage(st.stage);
    stage->set_display_name(st.id);
    stage->set_owner_role(st.owner_role);
    for (const StageCriterion& c : st.exit) stage->add_exit_criteria()->set_criterion_id(c.id);
    if (tier == 0 && st.stage == common::v1::STAGE_APPROVAL) {
      stage->set_status(routing::v1::STAGE_STATUS_SKIPPED);
    } else if (!entered) {
      Enter(*stage, now, st.sla);
      wf.set_current_stage_id(st.id);
      entered = true;
    } else {
      stage->set_status(routing::v1::STAGE_STATUS_PENDING);
    }
  }
  return wf;
}

int ActiveStage(const routing::v1::WorkflowInstance& workflow) {
  for (int i = 0; i < workflow.stages_size(); ++i) {
    if (workflow.stages(i).stage_id() == workflow.current_stage_id()) return i;
  }
  return -1;
}

absl::StatusOr<Transition> PlanAdvance(const routing::v1::WorkflowInstance& workflow,
                                       const std::string& expected_stage_id,
                                       const std::string& to_stage_id) {
  if (workflow.status() != routing::v1::WORKFLOW_STATUS_ACTIVE) {
    return absl::FailedPreconditionError("workflow of " + workflow.request_id() + " is not active");
  }
  Transition t;
  t.from = ActiveStage(workflow);
  if (t.from < 0) return absl::FailedPreconditionError("workflow has no active stage");
  if (!expected_stage_id.empty() && expected_stage_id != workflow.current_stage_id()) {
    return absl::AbortedError("the active stage is " + workflow.current_stage_id() + ", not " +
                              expected_stage_id);
  }
  for (int i = t.from + 1; i < workflow.stages_size(); ++i) {
    const auto& stage = workflow.stages(i);
    if (stage.status() != routing::v1::STAGE_STATUS_PENDING) continue;
    if (to_stage_id.empty() || stage.stage_id() == to_stage_id) {
      t.to = i;
      break;
    }
    t.skipped.push_back(stage.stage_id());
  }
  if (!to_stage_id.empty() && t.to < 0) {
    return absl::InvalidArgumentError("to_stage_id " + to_stage_id +
                                      " is not a pending stage after " +
                                      workflow.current_stage_id());
  }
  return t;
}

void ApplyAdvance(routing::v1::WorkflowInstance& workflow, const Transition& t, absl::Time now,
                  absl::Duration next_sla) {
  auto* from = workflow.mutable_stages(t.from);
  from->set_status(routing::v1::STAGE_STATUS_DONE);
  *from->mutable_exit_time() = ToProtoTime(now);
  for (auto& stage : *workflow.mutable_stages()) {
    for (const std::string& id : t.skipped) {
      if (stage.stage_id() == id) stage.set_status(routing::v1::STAGE_STATUS_SKIPPED);
    }
  }
  if (t.to < 0) {
    workflow.set_status(routing::v1::WORKFLOW_STATUS_COMPLETED);
    workflow.clear_current_stage_id();
  } else {
    Enter(*workflow.mutable_stages(t.to), now, next_sla);
    workflow.set_current_stage_id(workflow.stages(t.to).stage_id());
  }
  *workflow.mutable_update_time() = ToProtoTime(now);
}

void ApplyEnd(routing::v1::WorkflowInstance& workflow, routing::v1::WorkflowStatus status,
              absl::Time now) {
  if (const int active = ActiveStage(workflow); active >= 0) {
    auto* stage = workflow.mutable_stages(active);
    stage->set_status(routing::v1::STAGE_STATUS_SKIPPED);
    *stage->mutable_exit_time() = ToProtoTime(now);
  }
  workflow.set_status(status);
  workflow.clear_current_stage_id();
  *workflow.mutable_update_time() = ToProtoTime(now);
}

int EndedStage(const routing::v1::WorkflowInstance& workflow) {
  if (workflow.status() != routing::v1::WORKFLOW_STATUS_CANCELLED &&
      workflow.status() != routing::v1::WORKFLOW_STATUS_REJECTED) {
    return -1;
  }
  for (int i = 0; i < workflow.stages_size(); ++i) {
    const auto& stage = workflow.stages(i);
    if (stage.status() == routing::v1::STAGE_STATUS_SKIPPED && stage.has_enter_time()) return i;
  }
  return -1;
}

void ApplyReturn(routing::v1::WorkflowInstance& workflow, int to, absl::Time now,
                 absl::Duration sla) {
  const int active = ActiveStage(workflow);
  for (int i = to; i <= active && i < workflow.stages_size(); ++i) {
    auto* stage = workflow.mutable_stages(i);
    // A stage the plan skipped stays skipped.
    if (stage->status() == routing::v1::STAGE_STATUS_SKIPPED && !stage->has_enter_time()) continue;
    stage->set_status(routing::v1::STAGE_STATUS_PENDING);
    stage->clear_assignee_id();
    stage->clear_enter_time();
    stage->clear_exit_time();
    stage->clear_due_time();
    for (auto& c : *stage->mutable_exit_criteria()) {
      const std::string id = c.criterion_id();
      c.Clear();
      c.set_criterion_id(id);
    }
  }
  auto* target = workflow.mutable_stages(to);
  target->set_status(routing::v1::STAGE_STATUS_ACTIVE);
  *target->mutable_enter_time() = ToProtoTime(now);
  if (sla > absl::ZeroDuration()) *target->mutable_due_time() = ToProtoTime(now + sla);
  workflow.set_current_stage_id(target->stage_id());
  *workflow.mutable_update_time() = ToProtoTime(now);
}

bool AwaitsApproval(const routing::v1::WorkflowInstance& workflow,
                    const routing::v1::StageInstance& stage) {
  return stage.stage() == common::v1::STAGE_APPROVAL && !workflow.approval_policy_id().empty();
}

bool ChainApproved(const routing::v1::WorkflowInstance& workflow) {
  return workflow.approval().outcome() == approval::v1::CHAIN_STATUS_APPROVED;
}

absl::Duration TimerLength(const routing::v1::StageInstance& stage) {
  if (!stage.has_due_time()) return absl::ZeroDuration();
  return FromProtoTime(stage.due_time()) - FromProtoTime(stage.enter_time());
}

const StageTemplate* FindStage(const WorkflowTemplate* tmpl, const std::string& stage_id) {
  if (tmpl == nullptr) return nullptr;
  for (const StageTemplate& st : tmpl->stages) {
    if (st.id == stage_id) return &st;
  }
  return nullptr;
}

}  // namespace flywheel::routing
