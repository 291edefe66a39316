#pragma once

#include <string>

#include "absl/time/time.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/routing/v1/events.pb.h"
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
/// CANCEL of the timer of `stage_id`: the stage was left.
kafka::OutgoingEvent TimerCancelEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                      const std::string& stage_id, const std::string& id);

kafka::OutgoingEvent StageAdvancedEvent(const RoutingTopics& topics,
                                        const routing::v1::StageAdvanced& advanced,
                                        const std::string& id);
kafka::OutgoingEvent WorkflowCompletedEvent(const RoutingTopics& topics, const StoredWorkflow& wf,
                                            const std::string& id);
kafka::OutgoingEvent CapacityChangedEvent(const RoutingTopics& topics,
                                          const routing::v1::CapacityChanged& changed,
                                          const std::string& id);

}  // namespace flywheel::routing
