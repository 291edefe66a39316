#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "absl/time/time.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::outbox {

/// Every metric the outbox exports. Thread-safe.
class OutboxMetrics {
 public:
  explicit OutboxMetrics(metrics::Metrics& metrics);

  /// After a relay pass: what it published, what it had to leave, and how
  /// long the oldest of those has waited.
  void RecordRelayPass(int relayed, int left, absl::Duration oldest);
  /// A publish right after a change, or a drain, the broker refused.
  void CountPublishFailure();

 private:
  prometheus::Counter& relayed_;
  prometheus::Gauge& pending_;
  prometheus::Gauge& oldest_;
  prometheus::Counter& publish_failures_;
};

}  // namespace flywheel::outbox
