#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <cstdint>
#include <string>
#include <vector>

#include "flywheel/metrics/metrics.h"

namespace flywheel::approval {

/// Every metric the approval service exports besides the shared gRPC, Kafka,
/// outbox and policy-reload ones. Labels never carry a request, step or
/// person id. Thread-safe.
class ApprovalMetrics {
 public:
  explicit ApprovalMetrics(metrics::Metrics& metrics);

  /// `flywheel_approval_decisions_total{decision,result}`: `decision`
  /// approve, reject, request_changes or unspecified; `result` recorded,
  /// unchanged (a repeat), or the refusal's code in lower case
  /// (permission_denied, failed_precondition, aborted, ...).
  void CountDecision(const std::string& decision, const std::string& result);

  /// `flywheel_approval_chains_total{event}`: created, approved, rejected,
  /// cancelled, changes_requested, escalated.
  void CountChain(const std::string& event);

  /// `flywheel_approval_consumed_events_total{type,result}`: events taken
  /// in from routing and the scheduler; `result` applied, unchanged,
  /// ignored (not for approval), or the failure's code in lower case.
  void CountConsumed(const std::string& type, const std::string& result);

  /// Sets, for one tenant, `flywheel_approval_inbox_approvers{tenant,size}`
  /// (how many of its approvers have an inbox of that size: 0, 1-5, 6-20,
  /// 21-50, 51+) and `flywheel_approval_pending_lines{tenant}` (their lines
  /// in all) from every approver's inbox size.
  void SetInboxSizes(const std::string& tenant, const std::vector<int64_t>& sizes);

 private:
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& chains_;
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Gauge>& inbox_approvers_;
  prometheus::Family<prometheus::Gauge>& pending_lines_;
};

}  // namespace flywheel::approval
