#include "kafka_metrics.h"

#include <algorithm>

namespace flywheel::kafka {
namespace {

// How far ahead a skewed ce_time was: from drift past the tolerance to a
// wrong time zone or date.
const std::vector<double>& SkewBuckets() {
  static const std::vector<double> buckets = {2, 5, 30, 60, 300, 3600, 7200, 43200, 86400, 172800};
  return buckets;
}

}  // namespace

KafkaMetrics::KafkaMetrics(metrics::Metrics* metrics)
    : metrics_(metrics ? *metrics : own_),
      produced_(
          metrics_.Counter("flywheel_kafka_produced_records_total",
                           "Records the broker acknowledged or refused, by topic and result.")),
      delivery_(metrics_.Histogram("flywheel_kafka_delivery_duration_seconds",
                                   "Time from Send to the broker's acknowledgement.")),
      handled_(metrics_.Counter(
          "flywheel_kafka_handled_events_total",
          "Consumed records by handler and outcome: ok, retried, dead_lettered, and parked "
          "(the dead-letter topic refused it; see the log for its offset).")),
      handler_duration_(
          metrics_.Histogram("flywheel_kafka_handler_duration_seconds",
                             "Time a handler spent on one record, retries included.")),
      event_age_(metrics_.Histogram(
          "flywheel_kafka_event_age_seconds",
          "Age of an event when its handler finished: now minus ce_time. The processing SLI. "
          "Never negative: ce_time up to 1 s ahead counts as 0; further ahead (counted in "
          "flywheel_kafka_event_clock_skew_total) the age is taken from the Kafka record's "
          "timestamp, or not observed when that is ahead too.")),
      clock_skew_(metrics_.Counter(
          "flywheel_kafka_event_clock_skew_total",
          "Handled events whose ce_time was more than 1 s ahead of the consumer's clock.")),
      clock_skew_seconds_(
          metrics_.Histogram("flywheel_kafka_event_clock_skew_seconds",
                             "How far ahead of the consumer's clock a skewed ce_time was.")),
      lag_(metrics_.Gauge(
          "flywheel_kafka_consumer_lag_messages",
          "Records behind the partition's high watermark, per group and partition.")),
      assigned_(metrics_.Gauge(
          "flywheel_kafka_consumer_assigned_partitions",
          "Partitions this process's member of the group holds now; 0 while it waits for "
          "the group to give it some.")),
      in_flight_(metrics_.Gauge(
          "flywheel_kafka_consumer_in_flight_events",
          "Events in this process's partition windows, per group: fetched and not yet passed "
          "by the stored offset (queued, in the handler, or done above one that is not).")),
      paused_(metrics_.Gauge("flywheel_kafka_consumer_paused_partitions",
                             "Partitions paused because their window of events in flight is "
                             "full, per group.")),
      batches_(metrics_.Counter(
          "flywheel_kafka_handler_batches_total",
          "Batches handed to a handler; flywheel_kafka_handled_events_total over this is the "
          "mean batch size.")) {}

void KafkaMetrics::RecordProduced(const std::string& topic, bool ok, double seconds) {
  produced_.Add({{"topic", topic}, {"result", ok ? "ok" : "error"}}).Increment();
  delivery_.Add({{"topic", topic}}, metrics::LatencyBuckets()).Observe(seconds);
}

KafkaMetrics::HandlerSeries KafkaMetrics::ForHandler(const std::string& handler) {
  auto outcome = [&](const char* name) -> prometheus::Counter& {
    return handled_.Add({{"handler", handler}, {"outcome", name}});
  };
  return {.ok = outcome("ok"),
          .retried = outcome("retried"),
          .dead_lettered = outcome("dead_lettered"),
          .parked = outcome("parked"),
          .duration = handler_duration_.Add({{"handler", handler}}, metrics::LatencyBuckets()),
          .event_age = event_age_.Add({{"handler", handler}}, metrics::LatencyBuckets()),
          .batches = batches_.Add({{"handler", handler}})};
}

void KafkaMetrics::ObserveLatency(prometheus::Histogram& histogram, size_t count, double seconds) {
  if (count == 0) return;
  const std::vector<double>& bounds = metrics::LatencyBuckets();
  // One bucket per bound, and +Inf last; a value on a bound is in its bucket.
  std::vector<double> increments(bounds.size() + 1, 0);
  increments[std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin()] =
      static_cast<double>(count);
  histogram.ObserveMultiple(increments, seconds * static_cast<double>(count));
}

void KafkaMetrics::RecordClockSkew(const std::string& handler, double seconds) {
  clock_skew_.Add({{"handler", handler}}).Increment();
  clock_skew_seconds_.Add({{"handler", handler}}, SkewBuckets()).Observe(seconds);
}

void KafkaMetrics::SetLag(const std::string& group, const std::string& topic,
                          const std::string& partition, double lag) {
  lag_.Add({{"group", group}, {"topic", topic}, {"partition", partition}}).Set(lag);
}

void KafkaMetrics::SetAssignedPartitions(const std::string& group, int partitions) {
  assigned_.Add({{"group", group}}).Set(partitions);
}

void KafkaMetrics::SetInFlightEvents(const std::string& group, double events) {
  in_flight_.Add({{"group", group}}).Set(events);
}

void KafkaMetrics::SetPausedPartitions(const std::string& group, int partitions) {
  paused_.Add({{"group", group}}).Set(partitions);
}

}  // namespace flywheel::kafka
