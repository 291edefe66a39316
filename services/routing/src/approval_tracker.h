#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "assigner.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "policy.h"
#include "routing_metrics.h"

namespace flywheel::routing {

/// Takes the approvals stream and the connectors' publish results in: the
/// approval chain's outcome is the exit criterion of the workflow's approval
/// stage, and a publish.done that of its launch stage, so the workflow moves
/// on (or back to creation) without anyone calling AdvanceStage.
///
/// `approval.completed` APPROVED is recorded on the workflow
/// (`WorkflowInstance.approval`). When the approval stage is active, the
/// workflow leaves it at once as routing (no actor): stage.advanced, the
/// timer CANCEL of the approval stage, the next stage assigned with
/// task.assigned and its timer START, as AdvanceStage publishes them. When
/// the approval stage is not reached yet, the record lets the workflow pass
/// straight through it when it gets there (see `MoveForward`). An approval
/// stage whose own criteria do not hold keeps the record and waits for a
/// person.
///
/// `approval.completed` REJECTED ends the workflow as a cancel does: status
/// REJECTED, the active stage skipped and its task released, its timer
/// CANCEL, workflow.completed with outcome REJECTED.
///
/// `approval.changes-requested` sends a workflow whose active stage is after
/// its creation stage (the first stage when the template has none) and not
/// after its approval stage (any later stage when it has none) back to
/// creation: the stages between are pending again, the approval record is
/// cleared, and the task goes to whoever did creation before if they are
/// still eligible and below their WIP limit, else to whoever assignment
/// picks. Published: stage.advanced (approval → creation), the timer CANCEL
/// of the stage left, task.assigned (reason CHANGES_REQUESTED) and the
/// creation timer START. A workflow at creation or before is left alone.
///
/// `publish.done` (a connector put the work live, on the scheduler's
/// publish-results topic) moves a workflow whose active stage is its launch
/// stage on, as routing: stage.advanced, the launch timer CANCEL, then the
/// next stage assigned with its timer START, or workflow.completed when
/// launch was the last stage. A launch stage whose exit criteria do not
/// hold waits for a person; a workflow not at launch is left as it is
/// (the work went live ahead of it, or a second slot of the request did).
///
/// Other outcomes (CANCELLED: intake's request.cancelled ends the workflow)
/// and other approval event types are acknowledged untouched, as are events
/// for a workflow that has ended (publish.failed among them: the slot is
/// rescheduled at the scheduler, the workflow stays at launch). Changes go through the outbox with
/// the stored change. Called from several consumer lanes at once; keeps no state.
class ApprovalTracker {
 public:
  ApprovalTracker(PolicyHolder& policy, Assigner& assigner, const Clock& clock);

  /// The consumer's handler: OK once the change is stored (its events are
  /// then published, or left to the outbox relay); INVALID_ARGUMENT for a
  /// payload that cannot be handled or a request routing has no workflow
  /// for (dead-lettered with the reason: approval builds a chain only for a
  /// routed request, so that is a lost workflow, not an early event);
  /// UNAVAILABLE when Redis is down and ABORTED when the workflow kept
  /// changing meanwhile (retried). Idempotent on the event id: a redelivery
  /// changes nothing and publishes nothing new.
  absl::Status Handle(const kafka::ConsumedEvent& consumed);

  /// What `Handle` does with a decoded approval.completed; `time` is when
  /// the chain completed.
  absl::Status Completed(const approval::v1::ApprovalCompleted& completed,
                         const std::string& event_id, absl::Time time);
  /// What `Handle` does with a decoded approval.changes-requested.
  absl::Status ChangesRequested(const approval::v1::ChangesRequested& requested,
                                const std::string& event_id);
  /// What `Handle` does with a decoded publish.done.
  absl::Status Published(const scheduler::v1::PublishDone& done, const std::string& event_id);

 private:
  // What one approval event does to the workflow as read.
  struct Change {
    enum class Kind {
      kNone,    // nothing to store
      kRecord,  // store `next`; the stage and the assignment stay
      kMove,    // store `next` with `events`, assigning by `spec`
    };
    Kind kind = Kind::kNone;
    StoredWorkflow next;
    AssignSpec spec;
    EventsFor events;
    // For the log and the metric: advanced, recorded, rejected, returned,
    // launched.
    const char* result = "ignored";
  };
  using Planner = std::function<absl::StatusOr<Change>(const Policy& policy, StoredWorkflow wf)>;

  // Reads the workflow, skips a redelivery or an ended workflow, plans the
  // change and stores it, reading again when the workflow moved meanwhile;
  // `count` is the metric told the result.
  using Counter = void (RoutingMetrics::*)(const std::string& result);
  absl::Status Apply(const std::string& tenant_id, const std::string& request_id,
                     const std::string& event_id, const char* what, const Planner& plan,
                     Counter count = &RoutingMetrics::CountApprovalEvent);
  // Moves `change.next` on from its active stage as routing (no actor):
  // `change` becomes a kMove with `result`, the assignment and the events.
  // When the stage's criteria wait for a person, logs `waiting` and leaves
  // `change` as it was. `change.next` must be in the state to move from.
  absl::Status MoveOn(const Policy& policy, Change& change, const char* result, const char* waiting,
                      const std::string& event_id, absl::Time now);
  // `spec` narrowed to `preferred` when they may take the task now.
  absl::StatusOr<AssignSpec> Prefer(AssignSpec spec, const StoredWorkflow& wf,
                                    const std::string& preferred, const std::string& current);

  PolicyHolder& policy_;
  Assigner& assigner_;
  const Clock& clock_;
};

}  // namespace flywheel::routing
