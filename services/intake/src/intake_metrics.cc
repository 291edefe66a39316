#include "intake_metrics.h"

namespace flywheel::intake {

IntakeMetrics::IntakeMetrics(metrics::Metrics& metrics)
    : submissions_(metrics.Counter("flywheel_intake_submissions_total",
                                   "Work request submissions by request type and result.")),
      rejected_events_(metrics.Counter(
          "flywheel_intake_rejected_events_total",
          "Submission events refused and sent to the dead-letter topic, by reason.")),
      lifecycle_(metrics.Counter("flywheel_intake_lifecycle_events_total",
                                 "Routing events applied to request status, by type and result.")) {
  // Every reason at zero from the start, so that rate() and increase() see
  // the first rejection too.
  for (const char* reason : {"invalid", "conflict"}) rejected_events_.Add({{"reason", reason}});
}

void IntakeMetrics::CountSubmission(const std::string& request_type, const std::string& result) {
  submissions_.Add({{"request_type", request_type}, {"result", result}}).Increment();
}

void IntakeMetrics::CountRejectedEvent(const std::string& reason) {
  rejected_events_.Add({{"reason", reason}}).Increment();
}

void IntakeMetrics::CountLifecycleEvent(const std::string& type, const std::string& result) {
  lifecycle_.Add({{"type", type}, {"result", result}}).Increment();
}

}  // namespace flywheel::intake
