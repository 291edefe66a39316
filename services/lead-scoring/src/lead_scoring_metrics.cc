#include "lead_scoring_metrics.h"

namespace flywheel::lead_scoring {

LeadScoringMetrics::Outcomes LeadScoringMetrics::Bind(
    prometheus::Family<prometheus::Counter>& family, const char* kind) {
  return {.scored = &family.Add({{"kind", kind}, {"outcome", "scored"}}),
          .duplicate = &family.Add({{"kind", kind}, {"outcome", "duplicate"}}),
          .stale = &family.Add({{"kind", kind}, {"outcome", "stale"}}),
          .refused = &family.Add({{"kind", kind}, {"outcome", "refused"}})};
}

void LeadScoringMetrics::Count(const Outcomes& outcomes, EventOutcome outcome) {
  switch (outcome) {
    case EventOutcome::kScored:
      outcomes.scored->Increment();
      break;
    case EventOutcome::kDuplicate:
      outcomes.duplicate->Increment();
      break;
    case EventOutcome::kStale:
      outcomes.stale->Increment();
      break;
    case EventOutcome::kRefused:
      outcomes.refused->Increment();
      break;
  }
}

LeadScoringMetrics::LeadScoringMetrics(metrics::Metrics& metrics)
    : events_(metrics.Counter("flywheel_lead_scoring_events_total",
                              "Activity and profile events taken in, by outcome.")),
      activity_(Bind(events_, "activity")),
      profile_(Bind(events_, "profile")),
      merges_(metrics
                  .Counter("flywheel_lead_scoring_visitor_merges_total",
                           "Anonymous visitors whose activity was merged into a lead.")
                  .Add({})),
      qualified_(metrics.Counter("flywheel_lead_scoring_qualified_total",
                                 "Leads that crossed MQL under a model version.")),
      handed_off_(qualified_.Add({{"handed_off", "true"}})),
      cooling_(qualified_.Add({{"handed_off", "false"}})),
      band_changes_(metrics
                        .Counter("flywheel_lead_scoring_band_changes_total",
                                 "Band changes published as lead.scored.")
                        .Add({})),
      conflicts_(metrics
                     .Counter("flywheel_lead_scoring_write_conflicts_total",
                              "Events applied again because their lead changed meanwhile.")
                     .Add({})) {}

}  // namespace flywheel::lead_scoring
