#include "routing_events.h"

#include <google/protobuf/util/time_util.h>

#include "flywheel/events/catalog.h"
#include "policy.h"
#include "templates.h"

namespace flywheel::routing {
namespace {

kafka::OutgoingEvent Event(const std::string& topic, const char* type, const std::string& key,
                           const std::string& tenant, std::string data, const std::string& id) {
  return {.topic = topic,
          .type = type,
          .key = key,
          .data = std::move(data),
          .extensions = {{"tenant", tenant}},
          .id = id};
}

}  // namespace

kafka::OutgoingEvent RoutedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                 const std::string& id) {
  const auto& w = wf.workflow;
  routing::v1::RequestRouted routed;
  routed.set_tenant_id(w.tenant_id());
  routed.set_request_id(w.request_id());
  routed.set_team_id(w.team_id());
  routed.set_owner_id(w.owner_id());
  routed.set_approval_tier(w.approval_tier());
  routed.set_approval_policy_id(w.approval_policy_id());
  *routed.mutable_workflow() = w;
  routed.mutable_assignment_rule()->set_rule_id(wf.assignment_rule_id);
  routed.mutable_assignment_rule()->set_explanation(
      wf.assignment_rule_id.empty() ? "default team" : "assignment rule " + wf.assignment_rule_id);
  routed.mutable_tiering_rule()->set_rule_id(wf.tiering_rule_id);
  routed.mutable_tiering_rule()->set_explanation(wf.tiering_explanation);
  const int tier = static_cast<int>(w.approval_tier()) - 1;
  for (const std::string& step : ApprovalSteps(tier)) routed.add_approval_steps(step);
  return Event(topics.workflows, events::kRequestRouted, w.request_id(), w.tenant_id(),
               routed.SerializeAsString(), id);
}

routing::v1::Task ActiveTask(const StoredWorkflow& wf) {
  const auto& w = wf.workflow;
  routing::v1::Task task;
  task.set_tenant_id(w.tenant_id());
  task.set_request_id(w.request_id());
  task.set_team_id(w.team_id());
  task.set_title(wf.request.spec().title());
  task.set_priority(w.priority());
  task.set_status(routing::v1::TASK_STATUS_OPEN);
  task.set_queue_reason(wf.queue_reason);
  for (const auto& stage : w.stages()) {
    if (stage.stage_id() != w.current_stage_id()) continue;
    task.set_task_id(w.request_id() + "/" + stage.stage_id());
    task.set_stage_id(stage.stage_id());
    task.set_stage(stage.stage());
    task.set_assignee_id(stage.assignee_id());
    *task.mutable_due_time() = stage.due_time();
    *task.mutable_create_time() = stage.enter_time();
  }
  return task;
}

kafka::OutgoingEvent TaskAssignedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                       routing::v1::AssignmentReason reason,
                                       const std::string& previous_assignee,
                                       const std::string& id) {
  routing::v1::TaskAssigned assigned;
  assigned.set_tenant_id(wf.workflow.tenant_id());
  assigned.set_request_id(wf.workflow.request_id());
  *assigned.mutable_task() = ActiveTask(wf);
  assigned.set_previous_assignee_id(previous_assignee);
  assigned.set_reason(reason);
  assigned.mutable_rule()->set_rule_id(wf.assignment_rule_id);
  return Event(topics.workflows, events::kTaskAssigned, wf.workflow.request_id(),
               wf.workflow.tenant_id(), assigned.SerializeAsString(), id);
}

kafka::OutgoingEvent TimerStartEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                     absl::Duration sla, const std::string& id) {
  const auto& w = wf.workflow;
  scheduler::v1::TimerRequested timer;
  timer.set_tenant_id(w.tenant_id());
  timer.set_request_id(w.request_id());
  timer.set_timer_id(w.request_id() + "/stage/" + w.current_stage_id());
  timer.set_action(scheduler::v1::TIMER_ACTION_START);
  timer.set_kind(common::v1::TIMER_KIND_STAGE_SLA);
  timer.set_stage_id(w.current_stage_id());
  *timer.mutable_duration() =
      google::protobuf::util::TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(sla));
  timer.set_reason("stage " + w.current_stage_id() + " entered");
  return Event(topics.timer_requests, events::kTimerRequested, w.request_id(), w.tenant_id(),
               timer.SerializeAsString(), id);
}

kafka::OutgoingEvent TimerCancelEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                      const std::string& stage_id, const std::string& id,
                                      const std::string& reason) {
  const auto& w = wf.workflow;
  scheduler::v1::TimerRequested timer;
  timer.set_tenant_id(w.tenant_id());
  timer.set_request_id(w.request_id());
  timer.set_timer_id(w.request_id() + "/stage/" + stage_id);
  timer.set_action(scheduler::v1::TIMER_ACTION_CANCEL);
  timer.set_stage_id(stage_id);
  timer.set_reason(reason.empty() ? "stage " + stage_id + " left" : reason);
  return Event(topics.timer_requests, events::kTimerRequested, w.request_id(), w.tenant_id(),
               timer.SerializeAsString(), id);
}

kafka::OutgoingEvent StageAdvancedEvent(const RoutingTopics& topics,
                                        const routing::v1::StageAdvanced& advanced,
                                        const std::string& id) {
  return Event(topics.workflows, events::kStageAdvanced, advanced.request_id(),
               advanced.tenant_id(), advanced.SerializeAsString(), id);
}

kafka::OutgoingEvent WorkflowCompletedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                            const std::string& id) {
  routing::v1::WorkflowCompleted completed;
  completed.set_tenant_id(wf.workflow.tenant_id());
  completed.set_request_id(wf.workflow.request_id());
  completed.set_outcome(wf.workflow.status());
  *completed.mutable_complete_time() = wf.workflow.update_time();
  *completed.mutable_due_time() = wf.request.spec().due_time();
  return Event(topics.workflows, events::kWorkflowCompleted, wf.workflow.request_id(),
               wf.workflow.tenant_id(), completed.SerializeAsString(), id);
}

std::vector<kafka::OutgoingEvent> FirstRoutingEvents(const RoutingTopics& topics,
                                                     const StoredWorkflow& first) {
  const std::string& id = first.event_id;
  std::vector<kafka::OutgoingEvent> events = {
      RoutedEvent(topics, first, id + "/routed"),
      TaskAssignedEvent(topics, first, routing::v1::ASSIGNMENT_REASON_ROUTED, "",
                        id + "/assigned")};
  if (const int active = ActiveStage(first.workflow); active >= 0) {
    const absl::Duration sla = TimerLength(first.workflow.stages(active));
    if (sla > absl::ZeroDuration()) {
      events.push_back(TimerStartEvent(topics, first, sla, id + "/timer"));
    }
  }
  return events;
}

std::vector<kafka::OutgoingEvent> EndEvents(const RoutingTopics& topics,
                                            const StoredWorkflow& ended) {
  const bool rejected = ended.workflow.status() == routing::v1::WORKFLOW_STATUS_REJECTED;
  const std::string id = ended.workflow.request_id() + (rejected ? "/rejected" : "/cancelled");
  std::vector<kafka::OutgoingEvent> events;
  if (const int stage = EndedStage(ended.workflow);
      stage >= 0 && ended.workflow.stages(stage).has_due_time()) {
    events.push_back(TimerCancelEvent(topics, ended, ended.workflow.stages(stage).stage_id(),
                                      id + "/timer-cancel",
                                      rejected ? "approval rejected" : "request cancelled"));
  }
  events.push_back(WorkflowCompletedEvent(topics, ended, id + "/completed"));
  return events;
}

kafka::OutgoingEvent CapacityChangedEvent(const RoutingTopics& topics,
                                          const routing::v1::CapacityChanged& changed,
                                          const std::string& id) {
  return Event(topics.capacity, events::kCapacityChanged, changed.team_id(), changed.tenant_id(),
               changed.SerializeAsString(), id);
}

}  // namespace flywheel::routing
