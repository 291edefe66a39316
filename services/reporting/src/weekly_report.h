#pragma once

#include <string>
#include <vector>

#include "flywheel/reporting/v1/reporting_service.pb.h"

namespace flywheel::reporting {

namespace v1 = ::flywheel::reporting::v1;

/// What the weekly operations report shows.
struct WeeklyData {
  std::string tenant;
  std::string currency;
  /// One entry per ISO week, oldest first; the last is the week reported.
  std::vector<v1::OperationalMetrics> trend;
  /// The week reported.
  v1::OperationalMetrics week;
  /// Outcomes of the week by channel, last touch.
  v1::ListCampaignOutcomesResponse by_channel;
  /// The week's work joined to results, by request type, last touch.
  v1::GetWorkResultsResponse work;
};

/// The report as one HTML file: its figures, six charts (cycle-time trend,
/// stage funnel, on-time rate, bottleneck, outcomes by channel, and what
/// each request type's work cost beside what it produced) and that last
/// one as a table, the charts drawn by Chart.js, whose minified source is inlined, so the
/// file opens without any server or network. Animations are off, so the
/// charts are drawn once the page has loaded.
std::string RenderWeeklyHtml(const WeeklyData& data);

/// The inlined Chart.js (services/reporting/vendor/chart.js, MIT).
const std::string& ChartJsSource();

}  // namespace flywheel::reporting
