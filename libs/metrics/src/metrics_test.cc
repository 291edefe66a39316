#include "flywheel/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "absl/time/clock.h"
#include "process_collector.h"

namespace flywheel::metrics {
namespace {

using ::testing::HasSubstr;

TEST(CheckNameTest, AcceptsProjectShape) {
  EXPECT_TRUE(CheckName("flywheel_intake_requests_total").ok());
  EXPECT_TRUE(CheckName("flywheel_kafka_event_age_seconds").ok());
}

TEST(CheckNameTest, RefusesOtherShapes) {
  EXPECT_FALSE(CheckName("intake_requests_total").ok());
  EXPECT_FALSE(CheckName("flywheel_Intake_total").ok());
  EXPECT_FALSE(CheckName("flywheel_intake").ok());
  EXPECT_FALSE(CheckName("flywheel_intake-requests_total").ok());
}

TEST(LatencyBucketsTest, IncludeTheSloEdges) {
  const auto& b = LatencyBuckets();
  for (double edge : {0.3, 2.0, 5.0}) {
    EXPECT_NE(std::find(b.begin(), b.end(), edge), b.end()) << edge;
  }
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(MetricsTest, RendersWhatWasRecorded) {
  Metrics metrics;
  metrics.Counter("flywheel_test_things_total", "Things.").Add({{"kind", "a"}}).Increment(3);
  metrics.Histogram("flywheel_test_wait_seconds", "Wait.").Add({}, LatencyBuckets()).Observe(1.5);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("flywheel_test_things_total{kind=\"a\"} 3"));
  EXPECT_THAT(text, HasSubstr("flywheel_test_wait_seconds_bucket{le=\"2\"} 1"));
  EXPECT_THAT(text, HasSubstr("flywheel_test_wait_seconds_bucket{le=\"1\"} 0"));
}

TEST(MetricsTest, RefusesCounterWithoutTotal) {
  Metrics metrics;
  EXPECT_THROW(metrics.Counter("flywheel_test_things", "x"), std::invalid_argument);
}

TEST(MetricsTest, ProcessNamesStayReservedForTheProcessSeries) {
  Metrics metrics;
  EXPECT_THROW(metrics.Gauge("process_open_fds", "x"), std::invalid_argument);
  EXPECT_THROW(metrics.Counter("process_cpu_seconds_total", "x"), std::invalid_argument);
}

// The value of the unlabelled sample `name` in a text exposition.
std::optional<double> Sample(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name + " ")) continue;
    const std::string value = line.substr(name.size() + 1);
    double parsed = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return parsed;
  }
  return std::nullopt;
}

TEST(ProcessMetricsTest, RenderedWithConventionalNamesAndTypes) {
  Metrics metrics;
  const std::string text = metrics.Render();
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, std::string>>{{"process_cpu_seconds_total", "counter"},
                                                        {"process_resident_memory_bytes", "gauge"},
                                                        {"process_virtual_memory_bytes", "gauge"},
                                                        {"process_open_fds", "gauge"},
                                                        {"process_max_fds", "gauge"},
                                                        {"process_start_time_seconds", "gauge"}}) {
    EXPECT_THAT(text, HasSubstr("# TYPE " + name + " " + type + "\n")) << text;
    EXPECT_TRUE(Sample(text, name).has_value()) << name << " in\n" << text;
  }
}

TEST(ProcessMetricsTest, ValuesArePlausible) {
  Metrics metrics;
  const std::string text = metrics.Render();
  EXPECT_GT(Sample(text, "process_resident_memory_bytes").value_or(0), 0);
  EXPECT_GE(Sample(text, "process_virtual_memory_bytes").value_or(0),
            Sample(text, "process_resident_memory_bytes").value_or(1));
  EXPECT_GE(Sample(text, "process_open_fds").value_or(0), 3);  // stdin, stdout, stderr
  EXPECT_GE(Sample(text, "process_max_fds").value_or(0),
            Sample(text, "process_open_fds").value_or(1));
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  const double started = Sample(text, "process_start_time_seconds").value_or(0);
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 60);  // this test process started moments ago
  EXPECT_GE(Sample(text, "process_cpu_seconds_total").value_or(-1), 0);
}

TEST(ProcessMetricsTest, CpuSecondsGrowWhileBurningCpu) {
  Metrics metrics;
  const double before = Sample(metrics.Render(), "process_cpu_seconds_total").value_or(-1);
  ASSERT_GE(before, 0);
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  volatile double sink = 0;
  double after = before;
  while (after <= before && absl::Now() < give_up) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + i * 0.5;
    after = Sample(metrics.Render(), "process_cpu_seconds_total").value_or(-1);
  }
  EXPECT_GT(after, before);
}

TEST(ProcessMetricsTest, OpenFdsCountsANewDescriptor) {
  Metrics metrics;
  const double before = Sample(metrics.Render(), "process_open_fds").value_or(0);
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  const double during = Sample(metrics.Render(), "process_open_fds").value_or(0);
  std::fclose(file);
  EXPECT_EQ(during, before + 1);
}

TEST(ProcStatTest, CountsFieldsFromTheLastParenthesis) {
  // A command name with a space and a parenthesis, as /proc allows.
  const std::string stat =
      "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 "
      "250 50 0 0 20 0 4 0 123456 104857600 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 "
      "17 1 0 0 0 0 0";
  auto parsed = ParseProcStat(stat);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->cpu_ticks, 300);
  EXPECT_EQ(parsed->start_ticks, 123456);
  EXPECT_EQ(parsed->virtual_bytes, 104857600);
  EXPECT_EQ(parsed->resident_pages, 2048);
}

TEST(ProcStatTest, RefusesTruncatedText) {
  EXPECT_FALSE(ParseProcStat("4242 (cmd) S 1 4242").has_value());
  EXPECT_FALSE(ParseProcStat("no parenthesis here").has_value());
}

TEST(ProcLimitsTest, ReadsTheSoftOpenFilesLimit) {
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max processes             63511                63511                processes \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits), 1024);
  EXPECT_FALSE(
      ParseMaxOpenFiles("Max open files            unlimited            unlimited            files")
          .has_value());
}

TEST(ProcStatTest, ReadsTheBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n"), 1700000000);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\n").has_value());
}

}  // namespace
}  // namespace flywheel::metrics
