#pragma once

#include "absl/status/status.h"
#include "assigner.h"
#include "flywheel/core/clock.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/consumer.h"
#include "policy.h"

namespace flywheel::routing {

/// Takes the requests stream in.
///
/// `request.submitted` turns each request into a workflow: the template for
/// its type, the team by the assignment rules, the owner within the team
/// (atomically under WIP limits, or the team queue with the reason), the
/// approval tier by the tiering rules. Then publishes request.routed,
/// task.assigned for the first stage and a TimerRequested START for the
/// first stage's SLA (timers are requested per stage as it is entered;
/// AdvanceStage requests the next).
///
/// `request.cancelled` ends the workflow: status cancelled, the active stage
/// skipped, its task released (the assignee's slot freed and handed to
/// queued work, or the request taken out of the queue), a TimerRequested
/// CANCEL for the active stage's timer and workflow.completed with outcome
/// cancelled. A cancel for a request routing has not routed is remembered,
/// so a request.submitted arriving after it routes nothing.
///
/// `request.updated` refreshes what routing keeps of the request: the
/// request itself (title, due time, fields as the task and queue views and
/// workflow.completed show them) and the workflow's priority, re-ranking the
/// queue. It does not re-run tiering or assignment: once routed, the team,
/// owner and tier are decisions others act on (the owner holds a WIP slot
/// and may have started; approval built its chain from the tier), so an
/// edit moving them would pull work from under people. An update that would
/// now earn a higher tier is logged as a warning.
///
/// Enum values the request carries that this build does not define are read
/// as unspecified (dropped from repeated fields) and logged. Other event
/// types on the requests stream are acknowledged untouched. The approvals
/// stream (the approval stage's exit, a rejection, changes requested) is
/// ApprovalTracker's; a workflow routed here carries the approval policy
/// whose chain its approval stage then waits for. Called from
/// several consumer lanes at once; keeps no state of its own.
class Router {
 public:
  Router(PolicyHolder& policy, Assigner& assigner, const Clock& clock);

  /// The consumer's handler: OK once the change is stored and its events
  /// are acknowledged; INVALID_ARGUMENT for a payload that cannot be
  /// handled (dead-lettered with the reason); UNAVAILABLE when Redis or
  /// Kafka is down and ABORTED when the workflow changed meanwhile
  /// (retried). Idempotent: a redelivery changes no state and republishes
  /// the first handling's events with the same ids and contents.
  absl::Status Handle(const kafka::ConsumedEvent& consumed);

  /// The consumer's batch handler: a run of request.submitted events is
  /// routed together (the rosters read once per team, one pipelined round
  /// trip to Redis for the run, its events produced together and their
  /// acknowledgement awaited by the completion, not by the lane); any other
  /// event is handled alone where it stands, after the run before it, so
  /// one request's events keep their order. Each event's status means what
  /// `Handle`'s return means.
  void HandleBatch(kafka::EventBatch batch, kafka::BatchDone done);

  /// Routes one submitted request; what `Handle` does after decoding.
  absl::Status Route(const intake::v1::RequestSubmitted& submitted, const std::string& event_id);
  /// Ends a cancelled request's workflow; what `Handle` does after decoding.
  absl::Status Cancel(const intake::v1::RequestCancelled& cancelled, const std::string& event_id);
  /// Refreshes an updated request; what `Handle` does after decoding.
  absl::Status Refresh(const intake::v1::RequestUpdated& updated, const std::string& event_id);

 private:
  struct Submission {
    intake::v1::RequestSubmitted submitted;
    std::string event_id;
  };
  // What routing a run of submissions leaves to publish: the events, in
  // order, and the run indexes whose success waits on them.
  struct RoutedRun {
    std::vector<kafka::OutgoingEvent> events;
    std::vector<size_t> waiting;
  };
  // The workflow a submission becomes, before it is assigned.
  absl::StatusOr<StoredWorkflow> Plan(const Policy& policy,
                                      const intake::v1::RequestSubmitted& submitted,
                                      const std::string& event_id);
  // Routes the run; `statuses[k]` is set for each failure.
  RoutedRun RouteAll(const std::vector<Submission>& run, std::vector<absl::Status>& statuses);

  PolicyHolder& policy_;
  Assigner& assigner_;
  const Clock& clock_;
};

}  // namespace flywheel::routing
