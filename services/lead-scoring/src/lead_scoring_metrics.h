#pragma once

#include <prometheus/counter.h>

#include "flywheel/metrics/metrics.h"

namespace flywheel::lead_scoring {

/// What happened to one incoming event.
enum class EventOutcome {
  /// The lead's (or visitor's) state changed.
  kScored,
  /// Seen before: a redelivery or a repeat; nothing changed.
  kDuplicate,
  /// A profile older than the one held; nothing changed.
  kStale,
  /// Refused (dead-lettered with the reason); nothing changed.
  kRefused,
};

/// Every metric lead scoring exports besides the shared gRPC, Kafka, outbox
/// and policy-reload ones, as probes: each series is bound once here, so
/// counting costs no label lookup. No label carries a lead or tenant id.
/// Thread-safe.
class LeadScoringMetrics {
 public:
  explicit LeadScoringMetrics(metrics::Metrics& metrics);

  /// `flywheel_lead_scoring_events_total{kind,outcome}`: kind activity or
  /// profile; outcome scored, duplicate, stale or refused.
  void Activity(EventOutcome outcome) { Count(activity_, outcome); }
  void Profile(EventOutcome outcome) { Count(profile_, outcome); }
  /// `flywheel_lead_scoring_visitor_merges_total`: visitors merged into a lead.
  void VisitorMerged() { merges_.Increment(); }
  /// `flywheel_lead_scoring_qualified_total{handed_off}`: leads that crossed
  /// MQL under a model version; handed_off false within the cool-down.
  void Qualified(bool handed_off) { (handed_off ? handed_off_ : cooling_).Increment(); }
  /// `flywheel_lead_scoring_band_changes_total`: lead.scored published.
  void BandChanged() { band_changes_.Increment(); }
  /// `flywheel_lead_scoring_write_conflicts_total`: a lead changed between
  /// its read and its write, so the event was applied again.
  void WriteConflict() { conflicts_.Increment(); }

 private:
  struct Outcomes {
    prometheus::Counter* scored;
    prometheus::Counter* duplicate;
    prometheus::Counter* stale;
    prometheus::Counter* refused;
  };
  static Outcomes Bind(prometheus::Family<prometheus::Counter>& family, const char* kind);
  static void Count(const Outcomes& outcomes, EventOutcome outcome);

  prometheus::Family<prometheus::Counter>& events_;
  Outcomes activity_;
  Outcomes profile_;
  prometheus::Counter& merges_;
  prometheus::Family<prometheus::Counter>& qualified_;
  prometheus::Counter& handed_off_;
  prometheus::Counter& cooling_;
  prometheus::Counter& band_changes_;
  prometheus::Counter& conflicts_;
};

}  // namespace flywheel::lead_scoring
