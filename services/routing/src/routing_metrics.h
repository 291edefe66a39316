#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "flywheel/metrics/metrics.h"

namespace flywheel::routing {

/// Every metric the routing service exports besides the shared gRPC, Kafka
/// and reload ones. Labels are enum names or team ids from the policy file:
/// bounded sets, never request or member ids. Thread-safe.
class RoutingMetrics {
 public:
  explicit RoutingMetrics(metrics::Metrics& metrics);

  /// `priority` is a Priority enum name: a small, fixed set.
  void CountRouted(const std::string& priority);
  /// `result`: assigned or queued.
  void CountAssignment(const std::string& result);
  /// `result`: ok or refused.
  void CountAdvance(const std::string& result);
  /// `result` of an approval event: advanced, recorded, rejected, returned,
  /// ignored or duplicate.
  void CountApprovalEvent(const std::string& result);
  /// `result` of a publish.done: launched, ignored or duplicate.
  void CountPublishEvent(const std::string& result);
  /// Records the queue length of one tenant's team; the gauge
  /// `flywheel_routing_queued_requests{team}` shows the sum over tenants.
  void SetQueued(const std::string& tenant_id, const std::string& team_id, size_t queued);

 private:
  prometheus::Family<prometheus::Counter>& routed_;
  prometheus::Family<prometheus::Counter>& assignments_;
  prometheus::Family<prometheus::Counter>& advances_;
  prometheus::Family<prometheus::Counter>& approval_events_;
  prometheus::Family<prometheus::Counter>& publish_events_;
  prometheus::Family<prometheus::Gauge>& queued_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, size_t> queued_by_tenant_;  // guarded by mu_
};

}  // namespace flywheel::routing
