#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <string>

#include "absl/time/time.h"
#include "flywheel/metrics/metrics.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// Every metric the scheduler exports besides the shared gRPC, Kafka and
/// policy-reload ones. Labels never carry a timer, request or tenant id.
/// Thread-safe.
class SchedulerMetrics {
 public:
  explicit SchedulerMetrics(metrics::Metrics& metrics);

  /// `flywheel_scheduler_timer_commands_total{action,result}`: start, pause,
  /// resume, extend, cancel, from events or gRPC; `result` applied or the
  /// refusal's code in lower case.
  void CountCommand(const std::string& action, const std::string& result);

  /// `flywheel_scheduler_fired_total{point}`: warning, breach, escalation
  /// (a breach's later levels) or publish, for a point just fired.
  void CountFired(const FirePoint& point);

  /// `flywheel_scheduler_fire_lag_seconds`: how long after its due time a
  /// point's event was published.
  void ObserveFireLag(absl::Duration lag);

  /// `flywheel_scheduler_fire_stage_seconds{stage}`: how long each stage of
  /// firing one claimed batch of SLA points took: `claim` (the claim script
  /// on every shard), `publish` (until the broker acknowledged the batch's
  /// events), `complete` (until every point of it had moved on, journal
  /// record acknowledged). Where a fire lag comes from.
  void ObserveClaim(absl::Duration took);
  void ObservePublish(absl::Duration took);
  void ObserveCompletion(absl::Duration took);

  /// `flywheel_scheduler_overdue_seconds{claimer}`: how long the earliest
  /// point not yet fired has been due (0 when none is), for the SLA timers'
  /// claimer (`timers`) and recurring work's (`recurring`).
  void SetTimersOverdue(absl::Duration overdue);
  void SetRecurringOverdue(absl::Duration overdue);

 private:
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Family<prometheus::Counter>& fired_;
  // Bound once: they count every point of every batch.
  prometheus::Counter& fired_warning_;
  prometheus::Counter& fired_breach_;
  prometheus::Counter& fired_escalation_;
  prometheus::Counter& fired_publish_;
  prometheus::Histogram& fire_lag_;
  prometheus::Family<prometheus::Histogram>& stages_;
  prometheus::Histogram& claim_;
  prometheus::Histogram& publish_;
  prometheus::Histogram& complete_;
  prometheus::Family<prometheus::Gauge>& overdue_;
  prometheus::Gauge& timers_overdue_;
  prometheus::Gauge& recurring_overdue_;
};

}  // namespace flywheel::scheduler
