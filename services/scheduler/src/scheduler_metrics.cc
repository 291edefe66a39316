#include "scheduler_metrics.h"

namespace flywheel::scheduler {

SchedulerMetrics::SchedulerMetrics(metrics::Metrics& metrics)
    : commands_(metrics.Counter("flywheel_scheduler_timer_commands_total",
                                "Timer commands taken in from events and gRPC, by result.")),
      fired_(metrics.Counter("flywheel_scheduler_fired_total",
                             "Points fired: SLA warnings, breaches and escalations, and "
                             "publishing slots.")),
      fired_warning_(fired_.Add({{"point", "warning"}})),
      fired_breach_(fired_.Add({{"point", "breach"}})),
      fired_escalation_(fired_.Add({{"point", "escalation"}})),
      fired_publish_(fired_.Add({{"point", "publish"}})),
      fire_lag_(metrics
                    .Histogram("flywheel_scheduler_fire_lag_seconds",
                               "How long after its due time a point's event was published.")
                    .Add({}, metrics::LatencyBuckets())),
      stages_(
          metrics.Histogram("flywheel_scheduler_fire_stage_seconds",
                            "How long each stage of firing a claimed batch of SLA points took.")),
      claim_(stages_.Add({{"stage", "claim"}}, metrics::LatencyBuckets())),
      publish_(stages_.Add({{"stage", "publish"}}, metrics::LatencyBuckets())),
      complete_(stages_.Add({{"stage", "complete"}}, metrics::LatencyBuckets())),
      overdue_(metrics.Gauge("flywheel_scheduler_overdue_seconds",
                             "How long the earliest point not yet fired has been due.")),
      timers_overdue_(overdue_.Add({{"claimer", "timers"}})),
      recurring_overdue_(overdue_.Add({{"claimer", "recurring"}})) {}

void SchedulerMetrics::CountCommand(const std::string& action, const std::string& result) {
  commands_.Add({{"action", action}, {"result", result}}).Increment();
}

void SchedulerMetrics::CountFired(const FirePoint& point) {
  switch (point.kind) {
    case PointKind::kWarning:
      fired_warning_.Increment();
      return;
    case PointKind::kPublish:
      fired_publish_.Increment();
      return;
    case PointKind::kBreach:
      (point.escalation_level == 0 ? fired_breach_ : fired_escalation_).Increment();
      return;
  }
}

void SchedulerMetrics::ObserveFireLag(absl::Duration lag) {
  fire_lag_.Observe(absl::ToDoubleSeconds(std::max(lag, absl::ZeroDuration())));
}

void SchedulerMetrics::ObserveClaim(absl::Duration took) {
  claim_.Observe(absl::ToDoubleSeconds(took));
}

void SchedulerMetrics::ObservePublish(absl::Duration took) {
  publish_.Observe(absl::ToDoubleSeconds(took));
}

void SchedulerMetrics::ObserveCompletion(absl::Duration took) {
  complete_.Observe(absl::ToDoubleSeconds(took));
}

void SchedulerMetrics::SetTimersOverdue(absl::Duration overdue) {
  timers_overdue_.Set(absl::ToDoubleSeconds(overdue));
}

void SchedulerMetrics::SetRecurringOverdue(absl::Duration overdue) {
  recurring_overdue_.Set(absl::ToDoubleSeconds(overdue));
}

}  // namespace flywheel::scheduler
