#include "outbox_metrics.h"

namespace flywheel::outbox {

OutboxMetrics::OutboxMetrics(metrics::Metrics& metrics)
    : relayed_(metrics
                   .Counter("flywheel_outbox_relayed_events_total",
                            "Events a crash or broker outage left unpublished, published later "
                            "by the outbox relay.")
                   .Add({})),
      pending_(metrics
                   .Gauge("flywheel_outbox_pending_events",
                          "Events old enough to relay that the last relay pass could not "
                          "publish; alert when it stays above 0.")
                   .Add({})),
      oldest_(metrics
                  .Gauge("flywheel_outbox_oldest_event_age_seconds",
                         "How long the oldest event the last relay pass could not publish has "
                         "waited; 0 when none is left.")
                  .Add({})),
      publish_failures_(metrics
                            .Counter("flywheel_outbox_publish_failures_total",
                                     "Publishes right after a change (or drains) the broker did "
                                     "not acknowledge; the relay publishes those events later.")
                            .Add({})) {}

void OutboxMetrics::RecordRelayPass(int relayed, int left, absl::Duration oldest) {
  relayed_.Increment(relayed);
  pending_.Set(left);
  oldest_.Set(absl::ToDoubleSeconds(oldest));
}

void OutboxMetrics::CountPublishFailure() { publish_failures_.Increment(); }

}  // namespace flywheel::outbox
