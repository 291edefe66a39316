#pragma once

#include <asio/awaitable.hpp>

#include "absl/status/status.h"
#include "approval_metrics.h"
#include "approvals.h"
#include "flywheel/kafka/consumer.h"

namespace flywheel::approval {

/// What approval takes in from other services, by `ce_type`:
///
///   request.routed                 (routing's workflows topic) builds the chain
///   workflow.completed, CANCELLED  (the same topic, so after the routed) ends it
///   sla.breached                   (the scheduler's SLA topic) escalates a step
///
/// Every other type is acknowledged untouched. Returns what a consumer
/// handler returns: OK once applied (or when nothing needed changing);
/// INVALID_ARGUMENT for what cannot be handled (dead-lettered with the
/// reason: undecodable, an unknown tenant or approval policy, a timer that
/// is not a step's); UNAVAILABLE or ABORTED to be retried. Idempotent: the
/// chain's operations are. Thread-safe; a coroutine (`kafka::AwaitEach`).
class IncomingEvents {
 public:
  IncomingEvents(Approvals& approvals, ApprovalMetrics& metrics)
      : approvals_(approvals), metrics_(metrics) {}

  asio::awaitable<absl::Status> Handle(const kafka::ConsumedEvent& consumed);

 private:
  Approvals& approvals_;
  ApprovalMetrics& metrics_;
};

}  // namespace flywheel::approval
