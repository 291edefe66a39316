#pragma once

#include <asio/awaitable.hpp>

#include "absl/status/status.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/consumer.h"
#include "intake_metrics.h"
#include "request_store.h"

namespace flywheel::intake {

/// Keeps each request's status in step with its workflow, from routing's
/// events on the workflows topic, so `GetRequest` and `ListRequests` show
/// where the work is:
///
///   request.routed      SUBMITTED -> ACTIVE, with team, owner and tier
///   task.assigned       the owner of an ACTIVE request
///   workflow.completed  SUBMITTED or ACTIVE -> COMPLETED
///
/// A request that was cancelled stays cancelled, and a completed one is not
/// reopened. Every change bumps the request's revision (so an Update racing
/// with it is told to re-read) and announces nothing: the fact is routing's.
/// Idempotent: a redelivered event finds the request already changed.
/// Other event types on the topic are skipped. Thread-safe; a coroutine
/// (`kafka::AwaitEach`).
class LifecycleHandler {
 public:
  LifecycleHandler(RequestStore& store, IntakeMetrics& metrics, const Clock& clock);

  /// OK when applied or nothing needed changing; INVALID_ARGUMENT (to the
  /// dead-letter topic) for an undecodable payload or a request intake does
  /// not have; UNAVAILABLE while the store is down.
  asio::awaitable<absl::Status> Handle(const kafka::ConsumedEvent& consumed);

 private:
  // The change an event asks of a request; false when it asks none.
  using Change = std::function<bool(v1::Request&)>;
  asio::awaitable<absl::Status> Apply(const std::string& type, const std::string& tenant_id,
                                      const std::string& request_id, const Change& change);

  RequestStore& store_;
  IntakeMetrics& metrics_;
  const Clock& clock_;
};

}  // namespace flywheel::intake
