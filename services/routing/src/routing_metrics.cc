#include "routing_metrics.h"

namespace flywheel::routing {

RoutingMetrics::RoutingMetrics(metrics::Metrics& metrics)
    : routed_(metrics.Counter("flywheel_routing_routed_requests_total",
                              "Requests routed, by priority.")) {}

void RoutingMetrics::CountRouted(const std::string& priority) {
  routed_.Add({{"priority", priority}}).Increment();
}

}  // namespace flywheel::routing
