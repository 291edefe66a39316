#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chain.h"
#include "flywheel/approval/v1/resources.pb.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::approval {

/// Where approval's events go (already prefixed).
struct ApprovalTopics {
  /// events::kApprovalsTopic: the chain's own facts.
  std::string approvals;
  /// events::kTimerRequestsTopic: the scheduler's step timers.
  std::string timer_requests;
};

/// The scheduler timer of one step in one review round:
/// `<request_id>/approval/<step_id>/<round>`. A new round is a new timer, so
/// a restarted step gets its full SLA again.
std::string StepTimerId(const std::string& request_id, const std::string& step_id, uint32_t round);

/// The events `facts` (one operation on `chain`, which is the chain after
/// it) call for, in order, all keyed by request id:
///
///   StepStarted      approval.step-started, and a timer START when the
///                    step has an SLA
///   StepDecided      approval.decided
///   StepStopped      a timer CANCEL when the step has an SLA
///   ChangesRequested approval.changes-requested
///   ChainCompleted   approval.completed
///   Escalated        approval.step-escalated
///   Delegated        nothing (the audit trail records it)
///
/// Ids are `<id_prefix>.<n>`: derived from the change, never random, so the
/// outbox republishes a change's events under the same ids. Every event's
/// time is `now`. Pure.
std::vector<kafka::OutgoingEvent> EventsFor(const v1::ApprovalChain& chain, const Facts& facts,
                                            const ApprovalTopics& topics,
                                            const std::string& id_prefix, absl::Time now);

/// approval.version-submitted for `version`, in `round`.
kafka::OutgoingEvent VersionSubmittedEvent(const v1::AssetVersion& version, uint32_t round,
                                           const ApprovalTopics& topics, std::string id,
                                           absl::Time now);

}  // namespace flywheel::approval
