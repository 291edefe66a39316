#pragma once

#include <prometheus/counter.h>

#include <string>

#include "flywheel/metrics/metrics.h"

namespace flywheel::routing {

/// Every metric the routing service exports besides the shared gRPC and
/// Kafka ones.
class RoutingMetrics {
 public:
  explicit RoutingMetrics(metrics::Metrics& metrics);

  /// `priority` is a Priority enum name: a small, fixed set.
  void CountRouted(const std::string& priority);

 private:
  prometheus::Family<prometheus::Counter>& routed_;
};

}  // namespace flywheel::routing
