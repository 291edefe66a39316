#include "kafka_metrics.h"

namespace flywheel::kafka {

KafkaMetrics::KafkaMetrics(metrics::Metrics* metrics)
    : metrics_(metrics ? *metrics : own_),
      produced_(
          metrics_.Counter("flywheel_kafka_produced_records_total",
                           "Records the broker acknowledged or refused, by topic and result.")),
      delivery_(metrics_.Histogram("flywheel_kafka_delivery_duration_seconds",
                                   "Time from Send to the broker's acknowledgement.")),
      handled_(
          metrics_.Counter("flywheel_kafka_handled_events_total",
                           "Consumed records by handler and outcome: ok, dead_lettered, retried.")),
      handler_duration_(
          metrics_.Histogram("flywheel_kafka_handler_duration_seconds",
                             "Time a handler spent on one record, retries included.")),
      event_age_(metrics_.Histogram(
          "flywheel_kafka_event_age_seconds",
          "Age of an event when its handler finished: now minus ce_time. The processing SLI.")),
      lag_(metrics_.Gauge(
          "flywheel_kafka_consumer_lag_messages",
          "Records behind the partition's high watermark, per group and partition.")) {}

void KafkaMetrics::RecordProduced(const std::string& topic, bool ok, double seconds) {
  produced_.Add({{"topic", topic}, {"result", ok ? "ok" : "error"}}).Increment();
  delivery_.Add({{"topic", topic}}, metrics::LatencyBuckets()).Observe(seconds);
}

void KafkaMetrics::RecordHandled(const std::string& handler, const std::string& outcome,
                                 double seconds) {
  handled_.Add({{"handler", handler}, {"outcome", outcome}}).Increment();
  handler_duration_.Add({{"handler", handler}}, metrics::LatencyBuckets()).Observe(seconds);
}

void KafkaMetrics::RecordEventAge(const std::string& handler, double seconds) {
  event_age_.Add({{"handler", handler}}, metrics::LatencyBuckets()).Observe(seconds);
}

void KafkaMetrics::SetLag(const std::string& group, const std::string& topic,
                          const std::string& partition, double lag) {
  lag_.Add({{"group", group}, {"topic", topic}, {"partition", partition}}).Set(lag);
}

}  // namespace flywheel::kafka
