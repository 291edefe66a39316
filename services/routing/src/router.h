#pragma once

#include "absl/status/status.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/consumer.h"
#include "routed_store.h"
#include "routing_metrics.h"

namespace flywheel::routing {

/// Takes `request.submitted` events in and records each request as routed.
/// Other event types on the requests stream are not routing's concern and
/// are acknowledged untouched. Called on the consumer's thread.
class Router {
 public:
  Router(RoutedStore& store, RoutingMetrics& metrics, const Clock& clock);

  /// The consumer's handler: OK once the effect is durable; INVALID_ARGUMENT
  /// for a payload that cannot be routed (dead-lettered with the reason);
  /// the store's UNAVAILABLE when Redis is down (retried).
  absl::Status Handle(const kafka::ConsumedEvent& consumed);

 private:
  RoutedStore& store_;
  RoutingMetrics& metrics_;
  const Clock& clock_;
};

}  // namespace flywheel::routing
