#include "weekly_report.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

double Hours(const google::protobuf::Duration& d) {
  return absl::ToDoubleHours(FromProtoDuration(d));
}

std::string Day(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d", FromProtoTime(t), absl::UTCTimeZone());
}

double Units(const common::v1::Money& m) {
  return static_cast<double>(m.units()) + static_cast<double>(m.nanos()) / 1e9;
}

std::string Escape(const std::string& text) {
  return absl::StrReplaceAll(text,
                             {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

nlohmann::json Data(const WeeklyData& data) {
  nlohmann::json j;
  for (const v1::OperationalMetrics& w : data.trend) {
    j["weeks"].push_back(Day(w.range().start_time()));
    j["cycle_p50_h"].push_back(Hours(w.cycle_time().p50()));
    j["cycle_p90_h"].push_back(Hours(w.cycle_time().p90()));
    j["on_time_pct"].push_back(100.0 * w.on_time_rate());
    j["delivered"].push_back(w.delivered());
  }
  j["stages"] = nlohmann::json::array();
  for (const v1::StageMetrics& s : data.week.stages()) {
    j["stages"].push_back(common::v1::Stage_Name(s.stage()).substr(6));  // "STAGE_"
    j["entered"].push_back(s.entered());
    j["stage_mean_h"].push_back(Hours(s.cycle_time().mean()));
    j["wip"].push_back(s.work_in_progress());
  }
  j["bottleneck"] = common::v1::Stage_Name(data.week.bottleneck_stage()).substr(6);
  j["channels"] = nlohmann::json::array();
  for (const v1::CampaignOutcome& o : data.by_channel.outcomes()) {
    j["channels"].push_back(o.key().empty() ? "(none)" : o.key());
    j["leads"].push_back(o.leads());
    j["mqls"].push_back(o.mqls());
    j["revenue"].push_back(Units(o.revenue()));
  }
  j["work_types"] = nlohmann::json::array();
  for (const v1::WorkResult& r : data.work.results()) {
    j["work_types"].push_back(r.key().empty() ? "(none)" : r.key());
    j["work_cycle_p50_h"].push_back(Hours(r.cycle_time().p50()));
    j["work_revenue"].push_back(Units(r.revenue()));
  }
  return j;
}

// The work joined to results as a table, one row per request type.
std::string WorkTable(const WeeklyData& data) {
  std::string html = absl::StrCat(
      "<h2>Which workflows paid off: work delivered this week by request type, beside what its "
      "campaigns produced (last touch, ",
      Escape(data.currency),
      ")</h2>\n<table class=\"work\"><tr><th>request type</th><th>delivered</th><th>cycle p50 / "
      "p90 (h)</th><th>revisions</th><th>on time</th><th>leads</th><th>MQLs</th><th>spend</"
      "th><th>revenue</th><th>ROI</th></tr>\n");
  for (const v1::WorkResult& r : data.work.results()) {
    absl::StrAppend(
        &html, "<tr><td>", Escape(r.key().empty() ? "(none)" : r.key()), "</td><td>", r.delivered(),
        "</td><td>",
        absl::StrFormat("%.1f / %.1f", Hours(r.cycle_time().p50()), Hours(r.cycle_time().p90())),
        "</td><td>", absl::StrFormat("%.2f", r.mean_revisions()), "</td><td>",
        absl::StrFormat("%.0f %%", 100.0 * r.on_time_rate()), "</td><td>",
        absl::StrFormat("%.1f", r.leads()), "</td><td>", absl::StrFormat("%.1f", r.mqls()),
        "</td><td>", absl::StrFormat("%.2f", Units(r.spend())), "</td><td>",
        absl::StrFormat("%.2f", Units(r.revenue())), "</td><td>", absl::StrFormat("%.2f", r.roi()),
        "</td></tr>\n");
  }
  const v1::CampaignOutcome& w = data.work.without_work();
  absl::StrAppend(&html,
                  "<tr><td>(campaigns without work this week)</td><td>0</td><td></td><td>"
                  "</td><td></td><td>",
                  w.leads(), "</td><td>", absl::StrFormat("%.1f", w.mqls()), "</td><td>",
                  absl::StrFormat("%.2f", Units(w.spend())), "</td><td>",
                  absl::StrFormat("%.2f", Units(w.revenue())), "</td><td>",
                  absl::StrFormat("%.2f", w.roi()), "</td></tr>\n</table>\n");
  return html;
}

constexpr char kStyle[] = R"css(
body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
.sub { color: #666; margin-bottom: 16px; }
.figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin-bottom: 16px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
.figure b { display: block; font-size: 20px; }
.charts { display: grid; grid-template-columns: 560px 560px; gap: 16px; }
.chart { width: 560px; height: 320px; border: 1px solid #eee; }
.chart h2 { font-size: 14px; margin: 4px 8px; }
table.work { border-collapse: collapse; margin-top: 16px; }
table.work th, table.work td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
table.work td:first-child { text-align: left; }
h2 { font-size: 16px; }
.chart div { position: relative; width: 540px; height: 280px; margin: 0 10px; }
)css";

constexpr char kCharts[] = R"js(
const d = JSON.parse(document.getElementById('report-data').textContent);
Chart.defaults.animation = false;
Chart.defaults.responsive = true;
Chart.defaults.maintainAspectRatio = false;
function draw(id, config) { new Chart(document.getElementById(id), config); }
draw('cycle-trend', {type: 'line', data: {labels: d.weeks, datasets: [
  {label: 'p50 hours', data: d.cycle_p50_h, borderColor: '#1f77b4', backgroundColor: '#1f77b4'},
  {label: 'p90 hours', data: d.cycle_p90_h, borderColor: '#ff7f0e', backgroundColor: '#ff7f0e'}]}});
draw('stage-funnel', {type: 'bar', data: {labels: d.stages, datasets: [
  {label: 'entered this week', data: d.entered, backgroundColor: '#2ca02c'},
  {label: 'in progress at the end', data: d.wip, backgroundColor: '#98df8a'}]}});
draw('on-time', {type: 'bar', data: {labels: d.weeks, datasets: [
  {label: 'on time %', data: d.on_time_pct, backgroundColor: '#9467bd'}]},
  options: {scales: {y: {min: 0, max: 100}}}});
draw('bottleneck', {type: 'bar', data: {labels: d.stages, datasets: [
  {label: 'mean hours per visit', data: d.stage_mean_h,
   backgroundColor: d.stages.map(s => s === d.bottleneck ? '#d62728' : '#c7c7c7')}]},
  options: {indexAxis: 'y'}});
draw('channels', {type: 'bar', data: {labels: d.channels, datasets: [
  {label: 'leads', data: d.leads, backgroundColor: '#17becf'},
  {label: 'MQLs', data: d.mqls, backgroundColor: '#bcbd22'}]}});
draw('work-results', {type: 'bar', data: {labels: d.work_types, datasets: [
  {label: 'cycle time p50 (hours)', data: d.work_cycle_p50_h, backgroundColor: '#8c564b',
   yAxisID: 'y'},
  {label: 'revenue attributed', data: d.work_revenue, backgroundColor: '#e377c2',
   yAxisID: 'y1'}]},
  options: {scales: {y: {position: 'left', beginAtZero: true},
                     y1: {position: 'right', beginAtZero: true, grid: {drawOnChartArea: false}}}}});
// Where each chart is, for a checker that looks at a screenshot.
document.body.setAttribute('data-charts', JSON.stringify([...document.querySelectorAll('canvas')]
  .map(c => { const r = c.getBoundingClientRect();
              return {id: c.id, x: r.x, y: r.y, w: r.width, h: r.height}; })));
)js";

}  // namespace

std::string RenderWeeklyHtml(const WeeklyData& data) {
  const v1::OperationalMetrics& w = data.week;
  std::string json = absl::StrReplaceAll(Data(data).dump(), {{"</", "<\\/"}});
  auto figure = [](const std::string& label, const std::string& value) {
    return absl::StrCat("<div class=\"figure\">", label, "<b>", value, "</b></div>");
  };
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Weekly "
      "operations report: ",
      Escape(data.tenant), ", week of ", Day(w.range().start_time()), "</title>\n<style>", kStyle,
      "</style>\n</head><body>\n<h1>Weekly operations report</h1>\n<div class=\"sub\">",
      Escape(data.tenant), ", week of ", Day(w.range().start_time()),
      " (UTC). Charts drawn with Chart.js (MIT licence), inlined.</div>\n<div class=\"figures\">",
      figure("Submitted", absl::StrCat(w.submitted())),
      figure("Delivered", absl::StrCat(w.delivered())),
      figure("Cycle time p50 / p90 (h)", absl::StrFormat("%.1f / %.1f", Hours(w.cycle_time().p50()),
                                                         Hours(w.cycle_time().p90()))),
      figure("On time", absl::StrFormat("%.0f %%", 100.0 * w.on_time_rate())),
      figure("Approval wait p50 (h)", absl::StrFormat("%.1f", Hours(w.approval_wait().p50()))),
      figure("Revisions per request", absl::StrFormat("%.2f", w.mean_revisions())),
      figure("SLA warning / breach",
             absl::StrFormat("%.0f %% / %.0f %%", 100.0 * w.sla_warning_rate(),
                             100.0 * w.sla_breach_rate())),
      figure("Bottleneck", absl::StrCat(Escape(common::v1::Stage_Name(w.bottleneck_stage())),
                                        absl::StrFormat(" (%.1f h)", Hours(w.bottleneck_wait())))));
  absl::StrAppend(&html, "</div>\n<div class=\"charts\">\n");
  for (const auto& [id, title] : std::vector<std::pair<std::string, std::string>>{
           {"cycle-trend", "Cycle time, submission to launch (hours), by week"},
           {"stage-funnel", "Stage funnel this week"},
           {"on-time", "On-time delivery (%), by week"},
           {"bottleneck", "Where work waits: mean hours per stage visit"},
           {"channels", "Outcomes by channel this week (last touch)"},
           {"work-results", "Work and results by request type this week"}}) {
    absl::StrAppend(&html, "<div class=\"chart\"><h2>", title, "</h2><div><canvas id=\"", id,
                    "\"></canvas></div></div>\n");
  }
  absl::StrAppend(&html, "</div>\n", WorkTable(data),
                  "<script id=\"report-data\" type=\"application/json\">", json,
                  "</script>\n<script>", ChartJsSource(), "</script>\n<script>", kCharts,
                  "</script>\n</body></html>\n");
  return html;
}

}  // namespace flywheel::reporting
