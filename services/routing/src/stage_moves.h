#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "flywheel/kafka/event_publisher.h"
#include "policy.h"
#include "routing_events.h"
#include "templates.h"
#include "workflow_store.h"

namespace flywheel::routing {

/// One stage left for another, as its stage.advanced tells it.
struct Hop {
  std::string from_id;
  common::v1::Stage from_stage = common::v1::STAGE_UNSPECIFIED;
  google::protobuf::Timestamp from_enter;
  /// Index of the stage entered; -1 when the workflow completed.
  int to = -1;
  std::vector<std::string> skipped;
  /// Who moved it (user id); empty when routing did on approval's word.
  std::string actor_id;
  /// Whether a timer START went out for the stage left, so it needs a
  /// CANCEL. False for an approval stage passed straight through.
  bool cancel_timer = true;
};

/// A stored change of the active stage: its hops in order (more than one
/// when an approved workflow passes through its approval stage), the SLA of
/// the stage finally entered and why its task is assigned.
struct StageMove {
  std::vector<Hop> hops;
  absl::Duration sla = absl::ZeroDuration();
  routing::v1::AssignmentReason reason = routing::v1::ASSIGNMENT_REASON_STAGE_ENTERED;
  /// Index of the stage finally entered; -1 when the workflow completed.
  int entered() const { return hops.empty() ? -1 : hops.back().to; }
};

/// Whether `t` may be taken by a person: the active stage's exit criteria
/// and the entered stage's entry criteria (template `tmpl`) with the fields
/// of `wf.request` and the checklist items `confirmed`, and, for the stage
/// left and every stage skipped that awaits approval (`AwaitsApproval`), an
/// approved chain. FAILED_PRECONDITION naming the first unmet one, e.g.
/// "exit criterion of approval: the approval chain is not approved". Pure.
absl::Status CheckMove(const WorkflowTemplate* tmpl, const StoredWorkflow& wf, const Transition& t,
                       const std::set<std::string>& confirmed);

/// Applies `t` to `wf` at `now` as `actor` (the active stage's criteria
/// marked satisfied by them), then, while the stage entered awaits
/// approval, its chain approved and its exit criteria and the next stage's
/// entry criteria hold without confirmations, on through it as routing (no
/// actor, no task, no timer for it). Clears the queue reason; assignment is
/// left to the store. Pure function.
StageMove MoveForward(StoredWorkflow& wf, const WorkflowTemplate* tmpl, const Transition& t,
                      const std::string& actor, absl::Time now);

/// What a stored move publishes, built from the workflow as the store left
/// it: per hop a stage.advanced and, when a timer ran for the stage left,
/// its timer CANCEL; then task.assigned (with `move.reason`) and the timer
/// START of the stage entered, or workflow.completed. Ids derive from `id`
/// (`id`, `id/timer-cancel`, `id/assigned`, `id/timer`, `id/completed`;
/// later hops `id/<k>` and `id/<k>/timer-cancel`). Pure function.
std::vector<kafka::OutgoingEvent> MoveEvents(const RoutingTopics& topics,
                                             const StoredWorkflow& after, const StageMove& move,
                                             const AssignResult& result, const std::string& id);

}  // namespace flywheel::routing
