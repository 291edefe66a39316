#pragma once

#include <prometheus/counter.h>

#include <string>

#include "flywheel/metrics/metrics.h"

namespace flywheel::intake {

/// Every metric the intake service exports besides the shared gRPC and Kafka
/// ones.
class IntakeMetrics {
 public:
  explicit IntakeMetrics(metrics::Metrics& metrics);

  /// `result`: accepted, invalid, or failed (could not publish).
  void CountSubmission(const std::string& request_type, const std::string& result);

 private:
  prometheus::Family<prometheus::Counter>& submissions_;
};

}  // namespace flywheel::intake
