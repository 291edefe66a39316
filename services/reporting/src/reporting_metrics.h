#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <string>

#include "flywheel/metrics/metrics.h"

namespace flywheel::reporting {

/// What happened to one incoming event.
enum class EventOutcome {
  /// Its facts changed the aggregates.
  kApplied,
  /// Seen before (a redelivery, a replay): nothing changed.
  kDuplicate,
  /// About a request whose submission has not arrived: kept, counted when
  /// it does.
  kPending,
  /// A known type reporting has nothing to take from.
  kIgnored,
  /// Undecodable: dead-lettered, nothing changed.
  kRefused,
};

/// Every metric reporting exports besides the shared gRPC, Kafka and
/// outbox ones. Business series carry only stage, request type, team and
/// channel labels (never a request, lead or tenant id). Thread-safe.
class ReportingMetrics {
 public:
  explicit ReportingMetrics(metrics::Metrics& metrics);

  /// `flywheel_reporting_events_total{kind,outcome}`; kind is the event
  /// type's short name ("stage.advanced").
  void Event(const std::string& kind, EventOutcome outcome);
  /// `flywheel_reporting_unknown_events_total{topic}`: events of a type
  /// reporting does not know, counted and skipped.
  void Unknown(const std::string& topic);
  /// Shows `topic`'s unknown-event count at 0 before any arrives, so a
  /// dashboard or alert finds the series.
  void ExpectTopic(const std::string& topic);
  /// `flywheel_reporting_reconciled_total`: requests whose earlier events
  /// were counted once their submission arrived.
  void Reconciled() { reconciled_.Increment(); }
  /// `flywheel_reporting_stage_cycle_seconds{stage,type,team}`: one stage
  /// visit ended.
  void StageVisit(const std::string& stage, const std::string& type, const std::string& team,
                  double seconds);
  /// `flywheel_reporting_delivered_total{type,team,on_time}` and
  /// `flywheel_reporting_cycle_seconds{type,team}`: a request delivered.
  void Delivered(const std::string& type, const std::string& team, const std::string& on_time,
                 double seconds);
  /// `flywheel_reporting_sla_events_total{kind}`: kind warning or breach
  /// (each escalation after a breach is a breach event too); both start at 0.
  void Sla(const std::string& kind);
  /// `flywheel_reporting_mqls_total{channel}`: a lead qualified.
  void Qualified(const std::string& channel);

 private:
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Counter>& unknown_;
  prometheus::Counter& reconciled_;
  prometheus::Family<prometheus::Histogram>& stage_;
  prometheus::Family<prometheus::Counter>& delivered_;
  prometheus::Family<prometheus::Histogram>& cycle_;
  prometheus::Family<prometheus::Counter>& sla_;
  prometheus::Family<prometheus::Counter>& mqls_;
};

}  // namespace flywheel::reporting
