#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <string>

#include "absl/time/time.h"
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
  /// conflict.
  void CountRejectedEvent(const std::string& reason);

  /// After each pass of the outbox relay: `relayed` events it published
  /// (`flywheel_intake_outbox_relayed_events_total`), `left` it could not
  /// (`flywheel_intake_outbox_pending_events`, alert when it stays above 0),
  /// and how long the oldest of those has waited
  /// (`flywheel_intake_outbox_oldest_event_age_seconds`, 0 when none).
  void RecordRelayPass(int relayed, int left, absl::Duration oldest);

  /// `flywheel_intake_lifecycle_events_total{type,result}`: routing's events
  /// applied to a request's status; `result`: applied, unchanged (already
  /// there, or a state it may not move from).
  void CountLifecycleEvent(const std::string& type, const std::string& result);

 private:
  prometheus::Family<prometheus::Counter>& submissions_;
  prometheus::Family<prometheus::Counter>& rejected_events_;
  prometheus::Counter& relayed_;
  prometheus::Gauge& pending_;
  prometheus::Gauge& oldest_pending_;
  prometheus::Family<prometheus::Counter>& lifecycle_;
};

}  // namespace flywheel::intake
