#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/outbox/outbox.h"
#include "policy.h"
#include "routing_events.h"
#include "routing_metrics.h"
#include "workflow_store.h"

namespace flywheel::routing {

/// What routing, AdvanceStage and the capacity calls share: who may take a
/// stage's task, and handing queued work out as soon as capacity appears.
/// Thread-safe (the store is atomic per step; the policy is a snapshot).
class Assigner {
 public:
  /// `publisher` for what routing publishes from events it consumes (a
  /// redelivery republishes those), `outbox` for the events the store keeps
  /// with a change (AdvanceStage, capacity calls, queued work handed out).
  Assigner(WorkflowStore& store, kafka::EventPublisher& publisher, outbox::Outbox& outbox,
           RoutingMetrics& metrics, RoutingTopics topics);

  /// The team's members now: the policy's roster with run-time changes.
  /// NOT_FOUND when the policy has no such team.
  absl::StatusOr<std::vector<MemberSpec>> Roster(const Policy& policy, const std::string& tenant_id,
                                                 const std::string& team_id);

  /// Rosters already read, by tenant and team: what routing a batch reads
  /// once per team rather than once per request.
  using Rosters = std::map<std::pair<std::string, std::string>, std::vector<MemberSpec>>;

  /// Who may take the active stage of `wf`: members of its team not on
  /// leave with the rule's and the stage's skills and the rule's region;
  /// the reason when nobody may ("no team matches", "everyone on leave" ...).
  /// Reads the roster from `rosters` when it is there, and keeps it there.
  absl::StatusOr<AssignSpec> SpecFor(const Policy& policy, const StoredWorkflow& wf,
                                     Rosters* rosters = nullptr);

  /// Assigns the team's queued requests, most urgent first, while members
  /// have room; publishes task.assigned for each (stored with the
  /// assignment, so the relay publishes it if the broker is down) and
  /// refreshes the gauge.
  absl::Status Drain(const Policy& policy, const std::string& tenant_id,
                     const std::string& team_id);

  /// After a policy reload: hands waiting work out by the new policy (a
  /// raised WIP limit, an added member, a member back from leave), for every
  /// team of `policy` in every tenant the store knows, draining each queue
  /// while it yields work. Failures are logged, not returned: the new policy
  /// stands either way, and the next finished task drains again. Runs on the
  /// caller's thread (the reloader's).
  void AssignQueuedAfterReload(const Policy& policy);

  /// Sets `flywheel_routing_queued_requests{team}` from the store.
  void RefreshGauge(const std::string& tenant_id, const std::string& team_id);

  WorkflowStore& store() { return store_; }
  kafka::EventPublisher& publisher() { return publisher_; }
  outbox::Outbox& outbox() { return outbox_; }
  RoutingMetrics& metrics() { return metrics_; }
  const RoutingTopics& topics() const { return topics_; }

 private:
  // One pass of Drain over the first queued requests: how many it assigned;
  // `full` tells whether it looked at a whole batch (more may wait behind).
  absl::StatusOr<size_t> DrainBatch(const Policy& policy, const std::string& tenant_id,
                                    const std::string& team_id, bool& full);

  WorkflowStore& store_;
  kafka::EventPublisher& publisher_;
  outbox::Outbox& outbox_;
  RoutingMetrics& metrics_;
  RoutingTopics topics_;
};

}  // namespace flywheel::routing
