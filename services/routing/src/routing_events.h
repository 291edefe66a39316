#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "workflow_store.h"

namespace flywheel::routing {

/// Where routing publishes (already prefixed).
struct RoutingTopics {
  std::string workflows;
  std::string timer_requests;
  std::string capacity;
};

/// Builders of the events routing publishes. Every event id is derived from
/// its cause (`id`), so a retried publish is recognised downstream as the
/// same event. Pure functions.
kafka::OutgoingEvent RoutedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                 const std::string& id);

/// The active stage's task as it stands in `wf`.
routing::v1::Task ActiveTask(const StoredWorkflow& wf);

kafka::OutgoingEvent TaskAssignedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                       routing::v1::AssignmentReason reason,
                                       const std::string& previous_assignee, const std::string& id);

/// START of the active stage's SLA timer (`<request>/stage/<stage>`).
kafka::OutgoingEvent TimerStartEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                     absl::Duration sla, const std::string& id);
/// CANCEL of the timer of `stage_id`: the stage was left ("stage <id> left"
/// unless `reason` says otherwise).
kafka::OutgoingEvent TimerCancelEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                      const std::string& stage_id, const std::string& id,
                                      const std::string& reason = "");

kafka::OutgoingEvent StageAdvancedEvent(const RoutingTopics& topics,
                                        const routing::v1::StageAdvanced& advanced,
                                        const std::string& id);
kafka::OutgoingEvent WorkflowCompletedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                            const std::string& id);
/// What routing a request published: request.routed, task.assigned for the
/// first stage and, when that stage has an SLA, its timer START, with ids
/// derived from `first.event_id`. Built from the first routing (what Create
/// stored), so a redelivery republishes exactly the same events.
std::vector<kafka::OutgoingEvent> FirstRoutingEvents(const RoutingTopics& topics,
                                                     const StoredWorkflow& first);

/// What ending a workflow early published: the CANCEL of the timer of the
/// stage that was active (when it had one) and workflow.completed with the
/// workflow's status as outcome (cancelled, or rejected by the approval
/// chain). Ids derive from the request and the outcome
/// (`<request>/cancelled/...`, `<request>/rejected/...`): a workflow ends
/// once. Built from the stored ended workflow, so a redelivery republishes
/// the same events.
std::vector<kafka::OutgoingEvent> EndEvents(const RoutingTopics& topics,
                                            const StoredWorkflow& ended);

kafka::OutgoingEvent CapacityChangedEvent(const RoutingTopics& topics,
                                          const routing::v1::CapacityChanged& changed,
                                          const std::string& id);

}  // namespace flywheel::routing
