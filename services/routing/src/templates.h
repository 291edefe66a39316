#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "flywheel/routing/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// Turns `tmpl` into the request's workflow: every stage PENDING except the
/// first workable one, which is ACTIVE from `now` with its SLA due time.
/// Approval stages are SKIPPED for tier 0 (no sign-off needed). The team,
/// owner and assignee are left for assignment. Pure function.
routing::v1::WorkflowInstance BuildWorkflow(const WorkflowTemplate& tmpl,
                                            const intake::v1::Request& request, int tier,
                                            absl::Time now);

/// A planned move from the active stage.
struct Transition {
  int from = -1;
  /// -1 when the workflow completes.
  int to = -1;
  std::vector<std::string> skipped;
};

/// Checks that `expected_stage_id` (when set) is the active stage (ABORTED
/// otherwise) and finds the next stage, or `to_stage_id` later in the plan
/// (INVALID_ARGUMENT when it is not). FAILED_PRECONDITION when the workflow
/// is not active. Pure function.
absl::StatusOr<Transition> PlanAdvance(const routing::v1::WorkflowInstance& workflow,
                                       const std::string& expected_stage_id,
                                       const std::string& to_stage_id);

/// Applies `t`: the active stage DONE, the skipped ones SKIPPED, the next
/// ACTIVE with `sla` due time (zero: no due time), or the workflow
/// COMPLETED. Bumps update_time; assignment is left to the caller.
void ApplyAdvance(routing::v1::WorkflowInstance& workflow, const Transition& t, absl::Time now,
                  absl::Duration next_sla);

/// Ends the workflow early with `status` (CANCELLED for a cancelled request,
/// REJECTED for a rejected approval chain): the active stage SKIPPED with
/// `now` as its exit time (its enter time stays, which tells it from stages
/// the plan skipped), no current stage. Bumps update_time; releasing the
/// task is left to the caller. Pure function.
void ApplyEnd(routing::v1::WorkflowInstance& workflow, routing::v1::WorkflowStatus status,
              absl::Time now);

/// Index of the stage that was active when the workflow was cancelled or
/// rejected (see `ApplyEnd`), or -1 (not ended so, or with no active stage).
int EndedStage(const routing::v1::WorkflowInstance& workflow);

/// Moves the workflow back from its active stage to the earlier stage `to`:
/// `to` ACTIVE again from `now` with `sla` due time (zero: none), every
/// stage after it up to the one that was active PENDING again, with their
/// times, assignee and satisfied criteria cleared, so they are worked anew.
/// Bumps update_time; assignment is left to the caller. Pure function.
void ApplyReturn(routing::v1::WorkflowInstance& workflow, int to, absl::Time now,
                 absl::Duration sla);

/// Whether the stage's exit waits for the approval chain: an approval stage
/// of a workflow routed with an approval policy. Approval builds a chain for
/// every such request (tier 0 approves at once); a workflow without a policy
/// gets no chain, so its approval stage is left by a person as any other.
bool AwaitsApproval(const routing::v1::WorkflowInstance& workflow,
                    const routing::v1::StageInstance& stage);

/// Whether the approval chain of the workflow approved.
bool ChainApproved(const routing::v1::WorkflowInstance& workflow);

/// The length of the stage's SLA timer as the plan holds it (due time minus
/// enter time); zero when the stage has no timer. Pure function.
absl::Duration TimerLength(const routing::v1::StageInstance& stage);

/// The stage template of `stage_id` in `tmpl`, or null.
const StageTemplate* FindStage(const WorkflowTemplate* tmpl, const std::string& stage_id);

/// Index of the active stage, or -1.
int ActiveStage(const routing::v1::WorkflowInstance& workflow);

}  // namespace flywheel::routing
