#include "routing_metrics.h"

namespace flywheel::routing {

RoutingMetrics::RoutingMetrics(metrics::Metrics& metrics)
    : routed_(metrics.Counter("flywheel_routing_routed_requests_total",
                              "Requests routed, by priority.")),
      assignments_(metrics.Counter("flywheel_routing_assignments_total",
                                   "Stage tasks assigned to a member or queued, by result.")),
      advances_(metrics.Counter("flywheel_routing_stage_advances_total",
                                "AdvanceStage calls, by result (ok or refused).")),
      approval_events_(
          metrics.Counter("flywheel_routing_approval_events_total",
                          "Approval events handled, by what they did to the workflow.")),
      publish_events_(
          metrics.Counter("flywheel_routing_publish_events_total",
                          "publish.done events handled, by what they did to the workflow.")),
      queued_(metrics.Gauge("flywheel_routing_queued_requests",
                            "Requests waiting unassigned in a team queue, by team.")) {}

void RoutingMetrics::CountRouted(const std::string& priority) {
  routed_.Add({{"priority", priority}}).Increment();
}

void RoutingMetrics::CountAssignment(const std::string& result) {
  assignments_.Add({{"result", result}}).Increment();
}

void RoutingMetrics::CountAdvance(const std::string& result) {
  advances_.Add({{"result", result}}).Increment();
}

void RoutingMetrics::CountApprovalEvent(const std::string& result) {
  approval_events_.Add({{"result", result}}).Increment();
}

void RoutingMetrics::CountPublishEvent(const std::string& result) {
  publish_events_.Add({{"result", result}}).Increment();
}

void RoutingMetrics::SetQueued(const std::string& tenant_id, const std::string& team_id,
                               size_t queued) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_by_tenant_[{team_id, tenant_id}] = queued;
  size_t total = 0;
  for (auto it = queued_by_tenant_.lower_bound({team_id, ""});
       it != queued_by_tenant_.end() && it->first.first == team_id; ++it) {
    total += it->second;
  }
  queued_.Add({{"team", team_id}}).Set(static_cast<double>(total));
}

}  // namespace flywheel::routing
