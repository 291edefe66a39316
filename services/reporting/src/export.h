#pragma once

#include <string>
#include <variant>
#include <vector>

#include "flywheel/reporting/v1/reporting_service.pb.h"

namespace flywheel::reporting {

namespace v1 = ::flywheel::reporting::v1;

/// A report as rows of named columns; a cell is text or a number.
struct Table {
  using Cell = std::variant<std::string, double>;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

/// One row for the total, one per bucket and one per group; durations in
/// seconds, rates between 0 and 1.
Table OperationalTable(const v1::GetOperationalMetricsResponse& metrics);
/// One row per outcome; money in units of the currency.
Table OutcomesTable(const v1::ListCampaignOutcomesResponse& outcomes);

/// One row per group of the work joined to results, and one for the
/// outcomes without work (row "without_work"); durations in seconds, money
/// in units of the currency.
Table WorkResultsTable(const v1::GetWorkResultsResponse& results);

/// RFC 4180 CSV with a header row (`EXPORT_FORMAT_CSV`), or one JSON
/// object per row and line (`EXPORT_FORMAT_JSON_LINES`).
std::string Render(const Table& table, v1::ExportFormat format);

}  // namespace flywheel::reporting
