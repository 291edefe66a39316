#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <string>

#include "flywheel/metrics/metrics.h"

namespace flywheel::kafka {

/// Every metric the kafka library exports. Families are shared by all
/// producers and consumers of one process (prometheus-cpp merges families of
/// the same name). A null `Metrics` gives a private registry nobody reads,
/// so callers never check for null.
class KafkaMetrics {
 public:
  explicit KafkaMetrics(metrics::Metrics* metrics);

  void RecordProduced(const std::string& topic, bool ok, double seconds);
  /// One handler's series, looked up once, so recording an event costs no
  /// label lookup (the consumer's per-event path).
  struct HandlerSeries {
    prometheus::Counter& ok;
    prometheus::Counter& retried;
    prometheus::Counter& dead_lettered;
    prometheus::Counter& parked;
    prometheus::Histogram& duration;
    prometheus::Histogram& event_age;
    prometheus::Counter& batches;
  };
  HandlerSeries ForHandler(const std::string& handler);
  /// `count` observations of `seconds` in one step: a batch's events, which
  /// all took as long as the batch.
  static void ObserveLatency(prometheus::Histogram& histogram, size_t count, double seconds);
  /// An event whose ce_time was `seconds` ahead of the consumer's clock, by
  /// more than the tolerance.
  void RecordClockSkew(const std::string& handler, double seconds);
  void SetLag(const std::string& group, const std::string& topic, const std::string& partition,
              double lag);
  void SetAssignedPartitions(const std::string& group, int partitions);
  void SetInFlightEvents(const std::string& group, double events);
  void SetPausedPartitions(const std::string& group, int partitions);

 private:
  metrics::Metrics own_;
  metrics::Metrics& metrics_;
  prometheus::Family<prometheus::Counter>& produced_;
  prometheus::Family<prometheus::Histogram>& delivery_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handler_duration_;
  prometheus::Family<prometheus::Histogram>& event_age_;
  prometheus::Family<prometheus::Counter>& clock_skew_;
  prometheus::Family<prometheus::Histogram>& clock_skew_seconds_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Gauge>& assigned_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Gauge>& paused_;
  prometheus::Family<prometheus::Counter>& batches_;
};

}  // namespace flywheel::kafka
