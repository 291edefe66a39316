#include "flywheel/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

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

}  // namespace
}  // namespace flywheel::metrics
