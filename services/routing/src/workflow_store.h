#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "assignment.h"
#include "flywheel/intake/v1/resources.pb.h"
#include "flywheel/kafka/event_publisher.h"
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
  /// The last AdvanceStage that moved the workflow (a serialized
  /// AdvanceStageRequest) and the workflow it answered, so a retry of that
  /// very request gets the same answer instead of a refusal. Empty until an
  /// AdvanceStage moved it. `Advance` records the answer itself.
  std::string last_advance_request;
  routing::v1::WorkflowInstance last_advance_answer;
  /// The `ce_id`s of the approval events that changed the workflow, oldest
  /// first, so a redelivered one changes nothing. At most one per review
  /// round and one completion.
  std::vector<std::string> approval_event_ids;
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
StoredWorkflow StoredAfterCreate(StoredWorkflow wf, const AssignResult& result);

/// What a store holds after a change to `wf` that assigned as `result` and
/// left the workflow at `revision`: the assignee on the active stage (none
/// when the workflow ended), the owner set when it had none, the queue
/// reason.
StoredWorkflow StoredAfterAssign(const StoredWorkflow& wf, const AssignResult& result,
                                 int64_t revision);

/// The events a change causes, built once the store knows what the change
/// does (who got the task): from the workflow as the change leaves it.
/// Called before anything is written, possibly more than once (when the
/// team's load moved under a first attempt); must not have effects.
using EventsFor = std::function<std::vector<kafka::OutgoingEvent>(const StoredWorkflow& after,
                                                                  const AssignResult& result)>;

/// What a change that causes events did. Its events were stored with it in
/// the tenant's outbox (`outbox::Outbox`, tag = tenant id): publish them
/// with `Outbox::Publish` once it returns.
struct Committed {
  enum class Outcome {
    kDone,
    /// The workflow's revision is no longer the one expected: nothing
    /// changed; read it again.
    kStale,
    /// Events of an earlier change of this request are still in the outbox:
    /// nothing changed; `Outbox::Drain` the tenant and try again, so this
    /// change's events cannot overtake them.
    kOutboxPending,
  };
  Outcome outcome = Outcome::kDone;
  AssignResult result;
  /// The workflow as the change left it (kDone with `result.changed`).
  StoredWorkflow after;
  /// The events stored with the change, ids and times fixed.
  std::vector<kafka::OutgoingEvent> events;
};

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

  /// One `Create` of `CreateAll`.
  struct CreateCall {
    StoredWorkflow wf;
    AssignSpec assign;
  };
  /// `Create` for each call, in order, each atomic on its own (not the set):
  /// one result per call. Costs about what one `Create` costs where the
  /// store can send them together (Redis: one pipelined round trip). The
  /// default creates one after another.
  virtual std::vector<absl::StatusOr<AssignResult>> CreateAll(const std::vector<CreateCall>& calls);

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
  /// (kStale otherwise): frees the previous assignee's slot (or takes the
  /// request out of the queue), then assigns the new active stage by
  /// `assign`, or nothing when the workflow ended (completed or cancelled:
  /// `next.workflow.status` is not active). Stores `events(after, result)`
  /// in the same atomic step. When `next.last_advance_request` is set, the
  /// workflow it leaves is kept as that request's answer.
  virtual absl::StatusOr<Committed> Advance(const StoredWorkflow& next, int64_t expected_revision,
                                            const AssignSpec& assign, const EventsFor& events) = 0;

  /// Replaces what routing keeps of the request (`next.request`, the
  /// workflow's priority, update time, approval record and
  /// `approval_event_ids`) when the revision is still
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

  /// Assigns the queued request of `wf` (as read, at its revision: kStale
  /// when it moved since) by `assign` and stores `events(after, result)`
  /// with it. `result.changed = false` and no events when nobody is below
  /// their limit (the reason is updated) or it is no longer queued.
  virtual absl::StatusOr<Committed> AssignQueued(const StoredWorkflow& wf, const AssignSpec& assign,
                                                 const EventsFor& events) = 0;

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
  /// Both store `events` (the capacity change) with the change, in the
  /// tenant's outbox; publish them once the call returns.
  virtual absl::Status PutMember(const std::string& tenant_id, const std::string& team_id,
                                 const MemberSpec& member,
                                 std::vector<kafka::OutgoingEvent>& events) = 0;
  virtual absl::Status RemoveMember(const std::string& tenant_id, const std::string& team_id,
                                    const std::string& member_id,
                                    std::vector<kafka::OutgoingEvent>& events) = 0;
};

/// The queue name of requests no team matched.
inline constexpr char kUnroutedTeam[] = "_unrouted";

/// How long `RememberCancel` keeps a cancel: far beyond the retention of the
/// requests topic, so a request.submitted that arrives after its cancel (a
/// dead letter replayed, offsets reset) is still refused.
inline constexpr absl::Duration kRememberedCancelTtl = absl::Hours(24 * 30);

}  // namespace flywheel::routing
