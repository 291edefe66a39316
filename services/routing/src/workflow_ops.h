#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "assigner.h"
#include "flywheel/auth/principal.h"
#include "flywheel/core/clock.h"
#include "flywheel/routing/v1/routing_service.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// The logic behind the RoutingService RPCs: workflow progress, queue views
/// and team capacity. Takes and returns the API's messages; statuses follow
/// routing_service.proto (INVALID_ARGUMENT with field violations, also for
/// an enum value the contract does not define, NOT_FOUND,
/// ABORTED for a stale stage, FAILED_PRECONDITION naming the unmet
/// criterion). Thread-safe: any number of RPC threads at once.
class WorkflowOps {
 public:
  WorkflowOps(PolicyHolder& policy, Assigner& assigner, const Clock& clock);

  absl::StatusOr<routing::v1::WorkflowInstance> GetWorkflow(
      const routing::v1::GetWorkflowRequest& request);

  /// Checks the active stage's exit criteria (and the next stage's entry
  /// criteria) with the fields supplied, moves the workflow on, frees the
  /// assignee's slot, assigns the next stage (a workflow in progress keeps
  /// priority over queued requests: finishing comes before starting), then
  /// hands queued requests the capacity that is left. Publishes
  /// stage.advanced, timer CANCEL/START, task.assigned or
  /// workflow.completed through the outbox: once the change is stored the
  /// call succeeds, even when the broker is down. A repeat of the request
  /// that last moved the workflow gets the answer it got then.
  ///
  /// An approval stage that awaits a chain (`AwaitsApproval`) is left or
  /// skipped only once the chain approved (FAILED_PRECONDITION "exit
  /// criterion of approval: the approval chain is not approved" otherwise,
  /// for ops-admin too); entered with the chain approved already, the
  /// workflow goes straight on to the next stage and both moves are
  /// published (see `MoveForward`).
  ///
  /// Who advances is `caller` (or, for a `service` caller, the request's
  /// `actor_id`): it must be the active stage's assignee or the workflow's
  /// owner, or the caller an ops-admin (marketing ops stand in for team
  /// leads, which the routing policy does not name yet); else
  /// PERMISSION_DENIED and nothing changes. The caller's tenant was checked
  /// at the edge.
  absl::StatusOr<routing::v1::WorkflowInstance> AdvanceStage(
      const auth::Principal& caller, const routing::v1::AdvanceStageRequest& request);

  /// A team's queue (unassigned tasks first, with their reasons, then the
  /// assigned open ones unless `unassigned_only`), or one person's open
  /// tasks, each part most urgent first. Pages follow the convention in
  /// common.proto: a token resumes after the last task shown, so tasks that
  /// leave or join the queue between pages shift nothing else; a token from
  /// other filters, expired or malformed is INVALID_ARGUMENT on `page_token`.
  absl::StatusOr<routing::v1::ListQueueResponse> ListQueue(
      const routing::v1::ListQueueRequest& request);

  absl::StatusOr<routing::v1::Team> GetTeam(const std::string& tenant_id,
                                            const std::string& team_id);
  absl::StatusOr<routing::v1::GetTeamCapacityResponse> GetTeamCapacity(
      const routing::v1::GetTeamCapacityRequest& request);

  /// Adds a member, publishes CapacityChanged, assigns queued work.
  absl::StatusOr<routing::v1::Team> JoinTeam(const routing::v1::JoinTeamRequest& request);
  /// Removes a member; their open tasks go back to the team queue and are
  /// reassigned as capacity allows. Publishes CapacityChanged.
  absl::StatusOr<routing::v1::LeaveTeamResponse> LeaveTeam(
      const routing::v1::LeaveTeamRequest& request);
  /// Changes WIP limit, availability, skills or regions (by `update_mask`;
  /// empty mask: all four), publishes CapacityChanged, assigns queued work.
  absl::StatusOr<routing::v1::Team> UpdateMember(const routing::v1::UpdateMemberRequest& request);

 private:
  // One attempt: plans the advance from `next` (as read) and stores it with
  // its events; `fingerprint` is the request's deterministic bytes, kept as
  // the last advance.
  absl::StatusOr<Committed> TryAdvance(const auth::Principal& caller,
                                       const routing::v1::AdvanceStageRequest& request,
                                       const std::string& fingerprint, StoredWorkflow next);
  // Publishes a stored advance's events and hands out freed capacity.
  routing::v1::WorkflowInstance Finish(const Committed& committed);
  // CapacityChanged for the team as `roster_after` makes it.
  absl::StatusOr<std::vector<kafka::OutgoingEvent>> CapacityEvents(
      const std::string& tenant_id, const std::string& team_id,
      const std::vector<MemberSpec>& roster_after, const std::string& user_id,
      routing::v1::CapacityChange change);
  // Publishes events a member change stored; the relay does when this fails.
  void PublishStored(const std::string& tenant_id, const std::vector<kafka::OutgoingEvent>& events);

  PolicyHolder& policy_;
  Assigner& assigner_;
  const Clock& clock_;
};

}  // namespace flywheel::routing
