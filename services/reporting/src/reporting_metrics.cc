#include "reporting_metrics.h"

namespace flywheel::reporting {
namespace {

const char* OutcomeName(EventOutcome outcome) {
  switch (outcome) {
    case EventOutcome::kApplied:
      return "applied";
    case EventOutcome::kDuplicate:
      return "duplicate";
    case EventOutcome::kPending:
      return "pending";
    case EventOutcome::kIgnored:
      return "ignored";
    case EventOutcome::kRefused:
      return "refused";
  }
  return "refused";
}

// Work takes hours to weeks: buckets from a minute to 60 days.
const prometheus::Histogram::BucketBoundaries& WorkBuckets() {
  static const auto* const kBuckets = new prometheus::Histogram::BucketBoundaries{
      60,        600,       3600,      4 * 3600,   8 * 3600,   86400,
      2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 60 * 86400};
  return *kBuckets;
}

}  // namespace

ReportingMetrics::ReportingMetrics(metrics::Metrics& metrics)
    : events_(metrics.Counter("flywheel_reporting_events_total",
                              "Events reporting took in, by type and outcome.")),
      unknown_(metrics.Counter("flywheel_reporting_unknown_events_total",
                               "Events of a type reporting does not know, skipped.")),
      reconciled_(metrics
                      .Counter("flywheel_reporting_reconciled_total",
                               "Requests whose earlier events were counted when their "
                               "submission arrived.")
                      .Add({})),
      stage_(metrics.Histogram("flywheel_reporting_stage_cycle_seconds",
                               "Time from entering to leaving a workflow stage.")),
      delivered_(metrics.Counter("flywheel_reporting_delivered_total",
                                 "Requests delivered, by type, team and whether on time.")),
      cycle_(metrics.Histogram("flywheel_reporting_cycle_seconds",
                               "Time from submission to launch of delivered requests.")),
      sla_(metrics.Counter("flywheel_reporting_sla_events_total",
                           "SLA warnings and breaches counted.")),
      mqls_(metrics.Counter("flywheel_reporting_mqls_total",
                            "Leads that qualified, by last-touch channel.")) {
  sla_.Add({{"kind", "warning"}});
  sla_.Add({{"kind", "breach"}});
}

void ReportingMetrics::Event(const std::string& kind, EventOutcome outcome) {
  events_.Add({{"kind", kind}, {"outcome", OutcomeName(outcome)}}).Increment();
}

void ReportingMetrics::ExpectTopic(const std::string& topic) { unknown_.Add({{"topic", topic}}); }

void ReportingMetrics::Unknown(const std::string& topic) {
  unknown_.Add({{"topic", topic}}).Increment();
}

void ReportingMetrics::StageVisit(const std::string& stage, const std::string& type,
                                  const std::string& team, double seconds) {
  stage_.Add({{"stage", stage}, {"type", type}, {"team", team}}, WorkBuckets()).Observe(seconds);
}

void ReportingMetrics::Delivered(const std::string& type, const std::string& team,
                                 const std::string& on_time, double seconds) {
  delivered_.Add({{"type", type}, {"team", team}, {"on_time", on_time}}).Increment();
  cycle_.Add({{"type", type}, {"team", team}}, WorkBuckets()).Observe(seconds);
}

void ReportingMetrics::Sla(const std::string& kind) { sla_.Add({{"kind", kind}}).Increment(); }

void ReportingMetrics::Qualified(const std::string& channel) {
  mqls_.Add({{"channel", channel}}).Increment();
}

}  // namespace flywheel::reporting
