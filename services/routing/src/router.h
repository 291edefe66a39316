#pragma once

#include "absl/status/status.h"
#include "assigner.h"
#include "flywheel/core/clock.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/consumer.h"
#include "policy.h"

namespace flywheel::routing {

/// Takes `request.submitted` events in and turns each request into a
/// workflow: the template for its type, the team by the assignment rules,
/// the owner within the team (atomically under WIP limits, or the team
/// queue with the reason), the approval tier by the tiering rules. Then
/// publishes request.routed, task.assigned for the first stage and a
/// TimerRequested START for the first stage's SLA (timers are requested per
/// stage as it is entered; AdvanceStage requests the next). Enum values the
/// request carries that this build does not define are read as unspecified
/// (dropped from repeated fields) and logged. Other event
/// types on the requests stream are acknowledged untouched. Called from
/// several consumer lanes at once; keeps no state of its own.
class Router {
 public:
  Router(PolicyHolder& policy, Assigner& assigner, const Clock& clock);

  /// The consumer's handler: OK once the workflow is stored and the events
  /// are acknowledged; INVALID_ARGUMENT for a payload that cannot be routed
  /// (dead-lettered with the reason); UNAVAILABLE when Redis or Kafka is
  /// down (retried). Idempotent on the event id: a redelivery changes no
  /// state and re-publishes the same events with the same ids.
  absl::Status Handle(const kafka::ConsumedEvent& consumed);

  /// Routes one submitted request; what `Handle` does after decoding.
  absl::Status Route(const intake::v1::RequestSubmitted& submitted, const std::string& event_id);

 private:
  PolicyHolder& policy_;
  Assigner& assigner_;
  const Clock& clock_;
};

}  // namespace flywheel::routing
