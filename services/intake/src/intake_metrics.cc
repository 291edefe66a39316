#include "intake_metrics.h"

namespace flywheel::intake {

IntakeMetrics::IntakeMetrics(metrics::Metrics& metrics)
    : submissions_(metrics.Counter("flywheel_intake_submissions_total",
                                   "Work request submissions by request type and result.")) {}

void IntakeMetrics::CountSubmission(const std::string& request_type, const std::string& result) {
  submissions_.Add({{"request_type", request_type}, {"result", result}}).Increment();
}

}  // namespace flywheel::intake
