#include "stage_moves.h"

#include "exit_criteria.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::routing {
namespace {

absl::Status NotApproved(const std::string& stage_id) {
  return absl::FailedPreconditionError("exit criterion of " + stage_id +
                                       ": the approval chain is not approved");
}

// Applies one hop of `t` and says what it was.
Hop Apply(StoredWorkflow& wf, const WorkflowTemplate* tmpl, const Transition& t,
          const std::string& actor, absl::Time now, bool timer_ran) {
  auto& w = wf.workflow;
  auto* from = w.mutable_stages(t.from);
  Hop hop{.from_id = from->stage_id(),
          .from_stage = from->stage(),
          .from_enter = from->enter_time(),
          .to = t.to,
          .skipped = t.skipped,
          .actor_id = actor,
          .cancel_timer = timer_ran};
  for (auto& c : *from->mutable_exit_criteria()) {
    c.set_satisfied(true);
    c.set_satisfied_by(actor);
    *c.mutable_satisfy_time() = ToProtoTime(now);
  }
  const StageTemplate* to = t.to < 0 ? nullptr : FindStage(tmpl, w.stages(t.to).stage_id());
  ApplyAdvance(w, t, now, to == nullptr ? absl::ZeroDuration() : to->sla);
  return hop;
}

// Whether the workflow may leave its just-entered stage with nobody acting:
// it awaits approval, the chain approved, and the criteria hold as filled in.
bool PassesThrough(const StoredWorkflow& wf, const WorkflowTemplate* tmpl, Transition& next) {
  const auto& w = wf.workflow;
  const int active = ActiveStage(w);
  if (active < 0 || !AwaitsApproval(w, w.stages(active)) || !ChainApproved(w)) return false;
  auto t = PlanAdvance(w, "", "");
  if (!t.ok()) return false;
  if (!CheckMove(tmpl, wf, *t, {}).ok()) return false;
  next = *std::move(t);
  return true;
}

}  // namespace

absl::Status CheckMove(const WorkflowTemplate* tmpl, const StoredWorkflow& wf, const Transition& t,
                       const std::set<std::string>& confirmed) {
  const auto& w = wf.workflow;
  const auto& from = w.stages(t.from);
  if (AwaitsApproval(w, from) && !ChainApproved(w)) return NotApproved(from.stage_id());
  if (const StageTemplate* st = FindStage(tmpl, from.stage_id())) {
    FLYWHEEL_RETURN_IF_ERROR(CheckCriteria("exit", st->id, st->exit, wf.request, confirmed));
  }
  for (const std::string& id : t.skipped) {
    for (const auto& stage : w.stages()) {
      if (stage.stage_id() == id && AwaitsApproval(w, stage) && !ChainApproved(w)) {
        return NotApproved(id);
      }
    }
  }
  if (t.to >= 0) {
    if (const StageTemplate* st = FindStage(tmpl, w.stages(t.to).stage_id())) {
      FLYWHEEL_RETURN_IF_ERROR(CheckCriteria("entry", st->id, st->entry, wf.request, confirmed));
    }
  }
  return absl::OkStatus();
}

StageMove MoveForward(StoredWorkflow& wf, const WorkflowTemplate* tmpl, const Transition& t,
                      const std::string& actor, absl::Time now) {
  StageMove move;
  move.hops.push_back(Apply(wf, tmpl, t, actor, now, /*timer_ran=*/true));
  Transition next;
  while (move.entered() >= 0 && PassesThrough(wf, tmpl, next)) {
    // Entered and left at once: no task and no timer were published for it.
    move.hops.push_back(Apply(wf, tmpl, next, "", now, /*timer_ran=*/false));
  }
  if (const int to = move.entered(); to >= 0) {
    const StageTemplate* st = FindStage(tmpl, wf.workflow.stages(to).stage_id());
    move.sla = st == nullptr ? absl::ZeroDuration() : st->sla;
  }
  wf.queue_reason.clear();
  return move;
}

std::vector<kafka::OutgoingEvent> MoveEvents(const RoutingTopics& topics,
                                             const StoredWorkflow& after, const StageMove& move,
                                             const AssignResult& result, const std::string& id) {
  const auto& w = after.workflow;
  std::vector<kafka::OutgoingEvent> out;
  for (size_t k = 0; k < move.hops.size(); ++k) {
    const Hop& hop = move.hops[k];
    const std::string hop_id = k == 0 ? id : id + "/" + std::to_string(k);
    routing::v1::StageAdvanced advanced;
    advanced.set_tenant_id(w.tenant_id());
    advanced.set_request_id(w.request_id());
    advanced.set_from_stage_id(hop.from_id);
    advanced.set_from_stage(hop.from_stage);
    if (hop.to >= 0) {
      advanced.set_to_stage_id(w.stages(hop.to).stage_id());
      advanced.set_to_stage(w.stages(hop.to).stage());
    }
    for (const std::string& s : hop.skipped) advanced.add_skipped_stage_ids(s);
    *advanced.mutable_from_stage_enter_time() = hop.from_enter;
    *advanced.mutable_transition_time() = w.update_time();
    advanced.set_actor_id(hop.actor_id);
    out.push_back(StageAdvancedEvent(topics, advanced, hop_id));
    if (hop.cancel_timer) {
      out.push_back(TimerCancelEvent(topics, after, hop.from_id, hop_id + "/timer-cancel"));
    }
  }
  if (move.entered() >= 0) {
    out.push_back(
        TaskAssignedEvent(topics, after, move.reason, result.previous_assignee, id + "/assigned"));
    if (move.sla > absl::ZeroDuration()) {
      out.push_back(TimerStartEvent(topics, after, move.sla, id + "/timer"));
    }
  } else {
    out.push_back(WorkflowCompletedEvent(topics, after, id + "/completed"));
  }
  return out;
}

}  // namespace flywheel::routing
