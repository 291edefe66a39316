// The weekly report opened in headless Chromium (tests/report_screenshot.py):
// a screenshot shows each of its six charts drawn, with no server and no
// network, and the file carries its charting library inline.
#include "weekly_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "flywheel/core/proto_time.h"

namespace flywheel::reporting {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

WeeklyData Week() {
  WeeklyData data;
  data.tenant = "acme";
  data.currency = "EUR";
  const absl::Time monday = absl::FromUnixSeconds(1'799'020'800);
  for (int w = 0; w < 8; ++w) {
    v1::OperationalMetrics m;
    *m.mutable_range()->mutable_start_time() = ToProtoTime(monday + absl::Hours(24 * 7 * w));
    *m.mutable_range()->mutable_end_time() = ToProtoTime(monday + absl::Hours(24 * 7 * (w + 1)));
    *m.mutable_cycle_time()->mutable_p50() = ToProtoDuration(absl::Hours(20 + 3 * w));
    *m.mutable_cycle_time()->mutable_p90() = ToProtoDuration(absl::Hours(40 + 5 * w));
    m.set_on_time_rate(0.5 + 0.05 * w);
    m.set_delivered(3 + w);
    data.trend.push_back(m);
  }
  data.week = data.trend.back();
  int n = 0;
  for (auto stage : {common::v1::STAGE_BRIEF, common::v1::STAGE_CREATION,
                     common::v1::STAGE_APPROVAL, common::v1::STAGE_LAUNCH}) {
    v1::StageMetrics* s = data.week.add_stages();
    s->set_stage(stage);
    s->set_entered(10 - 2 * n);
    s->set_work_in_progress(n + 1);
    *s->mutable_cycle_time()->mutable_mean() = ToProtoDuration(absl::Hours(4 + 6 * n++));
  }
  data.week.set_bottleneck_stage(common::v1::STAGE_LAUNCH);
  for (const char* channel : {"CHANNEL_EMAIL", "CHANNEL_WEBINAR", "CHANNEL_PAID_SEARCH"}) {
    v1::CampaignOutcome* o = data.by_channel.add_outcomes();
    o->set_key(channel);
    o->set_leads(12 + n);
    o->set_mqls(4 + n++);
  }
  for (const char* type : {"blog_post", "email", "webinar"}) {
    v1::WorkResult* r = data.work.add_results();
    r->set_key(type);
    r->set_delivered(2 + n);
    *r->mutable_cycle_time()->mutable_p50() = ToProtoDuration(absl::Hours(10 + 4 * n));
    r->mutable_revenue()->set_units(500 * n++);
  }
  data.trend.back() = data.week;
  return data;
}

TEST(WeeklyReportTest, IsOneFileWithTheLibraryInline) {
  const std::string html = RenderWeeklyHtml(Week());
  EXPECT_THAT(html, HasSubstr("Chart.js v4"));
  EXPECT_THAT(html, Not(HasSubstr("<script src")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, HasSubstr("<td>webinar</td><td>11</td><td>46.0 / 0.0</td>"));
}

TEST(WeeklyReportTest, HeadlessChromiumDrawsEveryChart) {
  const std::string dir = ::testing::TempDir();
  const std::string html_path = absl::StrCat(dir, "/weekly_report_test.html");
  const std::string png_path = absl::StrCat(dir, "/weekly_report_test.png");
  {
    std::ofstream out(html_path);
    out << RenderWeeklyHtml(Week());
  }
  const std::string command =
      absl::StrCat("python3 ", FLYWHEEL_REPORT_CHECK, " ", html_path, " ", png_path);
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace flywheel::reporting
