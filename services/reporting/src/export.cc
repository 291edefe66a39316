#include "export.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/kafka/cloud_event.h"

namespace flywheel::reporting {
namespace {

double Seconds(const google::protobuf::Duration& d) {
  return absl::ToDoubleSeconds(FromProtoDuration(d));
}

double Units(const common::v1::Money& m) {
  return static_cast<double>(m.units()) + static_cast<double>(m.nanos()) / 1e9;
}

std::vector<Table::Cell> OperationalRow(const std::string& row, const std::string& group,
                                        const v1::OperationalMetrics& m) {
  return {row,
          kafka::FormatRfc3339(FromProtoTime(m.range().start_time())),
          kafka::FormatRfc3339(FromProtoTime(m.range().end_time())),
          group,
          static_cast<double>(m.submitted()),
          static_cast<double>(m.delivered()),
          m.throughput_per_week(),
          Seconds(m.cycle_time().p50()),
          Seconds(m.cycle_time().p90()),
          Seconds(m.approval_wait().p50()),
          Seconds(m.approval_wait().p90()),
          m.mean_revisions(),
          m.on_time_rate(),
          m.sla_warning_rate(),
          m.sla_breach_rate(),
          static_cast<double>(m.work_in_progress()),
          common::v1::Stage_Name(m.bottleneck_stage()),
          Seconds(m.bottleneck_wait())};
}

std::string CsvCell(const Table::Cell& cell) {
  if (const double* d = std::get_if<double>(&cell)) return nlohmann::json(*d).dump();
  const std::string& text = std::get<std::string>(cell);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

}  // namespace

Table OperationalTable(const v1::GetOperationalMetricsResponse& metrics) {
  Table t;
  t.columns = {"row",
               "period_start",
               "period_end",
               "group",
               "submitted",
               "delivered",
               "throughput_per_week",
               "cycle_time_p50_s",
               "cycle_time_p90_s",
               "approval_wait_p50_s",
               "approval_wait_p90_s",
               "mean_revisions",
               "on_time_rate",
               "sla_warning_rate",
               "sla_breach_rate",
               "work_in_progress",
               "bottleneck_stage",
               "bottleneck_wait_s"};
  t.rows.push_back(OperationalRow("total", "", metrics.total()));
  for (const auto& bucket : metrics.buckets())
    t.rows.push_back(OperationalRow("bucket", "", bucket));
  for (const auto& group : metrics.groups()) {
    t.rows.push_back(OperationalRow("group", group.key(), group.metrics()));
  }
  return t;
}

Table OutcomesTable(const v1::ListCampaignOutcomesResponse& outcomes) {
  Table t;
  t.columns = {"key",     "leads",        "mqls", "conversion_rate", "spend",
               "revenue", "cost_per_mql", "roi",  "currency"};
  for (const v1::CampaignOutcome& o : outcomes.outcomes()) {
    t.rows.push_back({o.key(), static_cast<double>(o.leads()), o.mqls(), o.conversion_rate(),
                      Units(o.spend()), Units(o.revenue()), Units(o.cost_per_mql()), o.roi(),
                      o.spend().currency_code()});
  }
  return t;
}

Table WorkResultsTable(const v1::GetWorkResultsResponse& results) {
  Table t;
  t.columns = {"row",
               "group",
               "delivered",
               "cycle_time_p50_s",
               "cycle_time_p90_s",
               "mean_revisions",
               "on_time_rate",
               "campaigns",
               "leads",
               "mqls",
               "spend",
               "revenue",
               "roi",
               "revenue_per_request",
               "currency"};
  for (const v1::WorkResult& r : results.results()) {
    t.rows.push_back({"group", r.key(), static_cast<double>(r.delivered()),
                      Seconds(r.cycle_time().p50()), Seconds(r.cycle_time().p90()),
                      r.mean_revisions(), r.on_time_rate(), static_cast<double>(r.campaigns()),
                      r.leads(), r.mqls(), Units(r.spend()), Units(r.revenue()), r.roi(),
                      Units(r.revenue_per_request()), r.revenue().currency_code()});
  }
  const v1::CampaignOutcome& w = results.without_work();
  t.rows.push_back({"without_work", "", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                    static_cast<double>(w.leads()), w.mqls(), Units(w.spend()), Units(w.revenue()),
                    w.roi(), 0.0, w.revenue().currency_code()});
  return t;
}

std::string Render(const Table& table, v1::ExportFormat format) {
  std::string out;
  if (format == v1::EXPORT_FORMAT_JSON_LINES) {
    for (const auto& row : table.rows) {
      nlohmann::json line = nlohmann::json::object();
      for (size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
        if (const double* d = std::get_if<double>(&row[i])) {
          line[table.columns[i]] = *d;
        } else {
          line[table.columns[i]] = std::get<std::string>(row[i]);
        }
      }
      absl::StrAppend(&out, line.dump(), "\n");
    }
    return out;
  }
  for (size_t i = 0; i < table.columns.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", table.columns[i]);
  }
  absl::StrAppend(&out, "\r\n");
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i)
      absl::StrAppend(&out, i == 0 ? "" : ",", CsvCell(row[i]));
    absl::StrAppend(&out, "\r\n");
  }
  return out;
}

}  // namespace flywheel::reporting
