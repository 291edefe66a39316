#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "assignment.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "flywheel/routing/v1/resources.pb.h"
#include "policy.h"

namespace flywheel::routing {

/// A routed request as routing keeps it.
struct StoredWorkflow {
  /// The plan and progress; `owner_id` and the active stage's `assignee_id`
  /// reflect the current assignment, `team_id` the owning team ("" when no
  /// team matched).
  routing::v1::WorkflowInstance workflow;
  /// The request as submitted, with fields added by AdvanceStage.
  intake::v1::Request request;
  /// The `ce_id` of the request.submitted event that routed it; the ids of
  /// the routing's events derive from it.
  std::string event_id;
  /// Why the active stage waits unassigned; empty when assigned.
  std::string queue_reason;
  /// What an assignee must have: the rule's skills and region.
  std::vector<std::string> required_skills;
  std::string region;
  /// The request's request.routed facts, kept to re-publish on redelivery.
  std::string assignment_rule_id;
  std::string tiering_rule_id;
  std::string tiering_explanation;
};

/// Who may take the active stage's task and how to pick among them.
struct AssignSpec {
  Strategy strategy = Strategy::kLeastLoaded;
  std::vector<Candidate> candidates;
  /// The queue reason when `candidates` is empty.
  std::string reason_if_none;
};

/// What an assignment step did.
struct AssignResult {
  /// False when the workflow already existed (Create) or was not queued
  /// any more (AssignQueued): nothing changed.
  bool changed = false;
  /// Empty when the task waits in the team queue.
  std::string assignee;
  std::string queue_reason;
  /// The assignee before (Advance), whose slot was freed.
  std::string previous_assignee;
  /// Create only: a cancel for the request came first (`RememberCancel`), so
  /// nothing was stored and the request must not be routed.
  bool cancelled = false;
};

/// What a store holds for `wf` right after a `Create` that changed
/// something (`result.changed`): `wf` at revision 1 with the assignment the
/// store made. Lets a caller skip reading the workflow back.
StoredWorkflow StoredAfterCreate(const StoredWorkflow& wf, const AssignResult& result);

/// The order of a team's queue and open tasks: most urgent first, by
/// priority P1..P4 (unset last), then by when routing created the workflow.
/// Smaller ranks first; ties are broken by request id. Pure function.
int64_t QueueRank(const routing::v1::WorkflowInstance& workflow);

/// One entry of a team queue (or of its open tasks), most urgent first.
struct QueueEntry {
  std::string request_id;
  /// Why it waits; empty for an open (assigned) task.
  std::string reason;
  /// `QueueRank` of its workflow when it was last ranked.
  int64_t rank = 0;
};

/// Where workflows, team load, team queues and member changes live. Every
/// method is atomic on its own: a member's load never exceeds the WIP limit
/// it was checked against, however many routings run at once. Thread-safe.
/// UNAVAILABLE when the store cannot be reached.
class WorkflowStore {
 public:
  virtual ~WorkflowStore() = default;

  /// Stores `wf` and assigns its active stage: the pick of `assign` gets the
  /// task and one more open task, else the request enters its team's queue
  /// with the reason. When a workflow for the request exists already
  /// (redelivery), changes nothing and returns `changed = false` with the
  /// stored assignment. When a cancel of the request was remembered, stores
  /// nothing and returns `cancelled = true`.
  virtual absl::StatusOr<AssignResult> Create(const StoredWorkflow& wf,
                                              const AssignSpec& assign) = 0;

  virtual absl::StatusOr<std::optional<StoredWorkflow>> Find(const std::string& tenant_id,
                                                             const std::string& request_id) = 0;

  /// The workflow as `Create` stored it, whatever happened since: revision 1,
  /// the first assignment (or queue reason), the request as submitted. What a
  /// redelivered request.submitted republishes, so the republished events
  /// are those of the first routing. nullopt when there is no workflow, or
  /// when it was stored before first states were kept and has changed since.
  virtual absl::StatusOr<std::optional<StoredWorkflow>> FindFirst(
      const std::string& tenant_id, const std::string& request_id) = 0;

  /// Replaces the workflow when its revision is still `expected_revision`
  /// (ABORTED otherwise): frees the previous assignee's slot (or takes the
  /// request out of the queue), then assigns the new active stage by
  /// `assign`, or nothing when the workflow ended (completed or cancelled:
  /// `next.workflow.status` is not active).
  virtual absl::StatusOr<AssignResult> Advance(const StoredWorkflow& next,
                                               int64_t expected_revision,
                                               const AssignSpec& assign) = 0;

  /// Replaces what routing keeps of the request (`next.request`, the
  /// workflow's priority and update time) when the revision is still
  /// `expected_revision` (ABORTED otherwise), and re-ranks the request in its
  /// team's queue or open tasks by the new priority. Leaves the assignment,
  /// the stages and every member's load as they are.
  virtual absl::Status Refresh(const StoredWorkflow& next, int64_t expected_revision) = 0;

  /// Remembers that the request was cancelled before routing saw it, so a
  /// later `Create` for it stores nothing. Kept for `kRememberedCancelTtl`.
  virtual absl::Status RememberCancel(const std::string& tenant_id,
                                      const std::string& request_id) = 0;

  /// Every tenant a workflow was created for (in any process), in no order.
  virtual absl::StatusOr<std::vector<std::string>> Tenants() = 0;

  /// Assigns a queued request by `assign`; `changed = false` when nobody is
  /// below their limit (the reason is updated) or it is no longer queued.
  virtual absl::StatusOr<AssignResult> AssignQueued(const std::string& tenant_id,
                                                    const std::string& team_id,
                                                    const std::string& request_id,
                                                    const AssignSpec& assign) = 0;

  /// Takes `request_id` away from `expected_assignee` (who left) and puts it
  /// in the team queue with `reason`; frees their slot. Atomic with the
  /// check: when the task has meanwhile moved to someone else (a stage
  /// advanced), nothing changes and the result is false.
  virtual absl::StatusOr<bool> Unassign(const std::string& tenant_id, const std::string& team_id,
                                        const std::string& request_id,
                                        const std::string& expected_assignee,
                                        const std::string& reason) = 0;

  /// The team's queue, most urgent first (by rank, then request id), at most
  /// `limit` entries.
  virtual absl::StatusOr<std::vector<QueueEntry>> Queue(const std::string& tenant_id,
                                                        const std::string& team_id,
                                                        size_t limit) = 0;
  virtual absl::StatusOr<size_t> QueueSize(const std::string& tenant_id,
                                           const std::string& team_id) = 0;
  /// Requests whose active task is assigned to a member of the team, most
  /// urgent first (by rank, then request id); `reason` is empty.
  virtual absl::StatusOr<std::vector<QueueEntry>> OpenRequests(const std::string& tenant_id,
                                                               const std::string& team_id) = 0;
  /// Open tasks per member of the team.
  virtual absl::StatusOr<std::map<std::string, int>> Loads(const std::string& tenant_id,
                                                           const std::string& team_id) = 0;

  /// Member changes made at run time (JoinTeam, UpdateMember: a value;
  /// LeaveTeam: nullopt), applied over the policy's roster.
  virtual absl::StatusOr<std::map<std::string, std::optional<MemberSpec>>> MemberOverrides(
      const std::string& tenant_id, const std::string& team_id) = 0;
  virtual absl::Status PutMember(const std::string& tenant_id, const std::string& team_id,
                                 const MemberSpec& member) = 0;
  virtual absl::Status RemoveMember(const std::string& tenant_id, const std::string& team_id,
                                    const std::string& member_id) = 0;
};

/// The queue name of requests no team matched.
inline constexpr char kUnroutedTeam[] = "_unrouted";

/// How long `RememberCancel` keeps a cancel: far beyond the retention of the
/// requests topic, so a request.submitted that arrives after its cancel (a
/// dead letter replayed, offsets reset) is still refused.
inline constexpr absl::Duration kRememberedCancelTtl = absl::Hours(24 * 30);

}  // namespace flywheel::routing
