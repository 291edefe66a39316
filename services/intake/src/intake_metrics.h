#pragma once

#include <prometheus/counter.h>

#include <string>

#include "flywheel/metrics/metrics.h"

namespace flywheel::intake {

/// Every metric the intake service exports besides the shared gRPC, Kafka
/// and policy-reload ones (the reloader counts
/// `flywheel_intake_policy_reloads_total`). Thread-safe.
class IntakeMetrics {
 public:
  explicit IntakeMetrics(metrics::Metrics& metrics);

  /// `flywheel_intake_submissions_total{request_type,result}`; `result`:
  /// accepted, replayed, invalid, conflict, or failed (store or broker down).
  /// `request_type` is a configured type id or `unknown`.
  void CountSubmission(const std::string& request_type, const std::string& result);

  /// `flywheel_intake_rejected_events_total{reason}`: submission events sent
  /// to the dead-letter topic; `reason`: undecodable, oversized, invalid,
  /// conflict, forbidden_producer (the auth policy does not let its source
  /// publish for its tenant).
  void CountRejectedEvent(const std::string& reason);

  /// `flywheel_intake_lifecycle_events_total{type,result}`: routing's events
  /// applied to a request's status; `result`: applied, unchanged (already
  /// there, or a state it may not move from).
  void CountLifecycleEvent(const std::string& type, const std::string& result);

 private:
  prometheus::Family<prometheus::Counter>& submissions_;
  prometheus::Family<prometheus::Counter>& rejected_events_;
  prometheus::Family<prometheus::Counter>& lifecycle_;
};

}  // namespace flywheel::intake
