// The real flywheel-intake executable, started against the test bed's broker
// and Redis, answers GET /metrics over HTTP with the standard process series
// (what every dashboard expects from a Prometheus client) next to its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "service_process.h"

namespace flywheel {
namespace {

using ::flywheel::testing::HttpGet;
using ::flywheel::testing::ServiceProcess;
using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

TEST(ServiceMetricsTest, IntakeServesProcessSeriesOnMetrics) {
  const std::vector<std::string> env = testing::TestBedServiceEnv(NewRandomId().substr(0, 12));
  ASSERT_FALSE(env.empty()) << "FLYWHEEL_TEST_KAFKA and FLYWHEEL_TEST_REDIS are not set: run "
                               "through the test bed";
  ServiceProcess intake;
  ASSERT_TRUE(intake.Start(FLYWHEEL_INTAKE_BIN, env));
  ASSERT_TRUE(WaitFor([&] { return intake.LogField("serving", "metrics_port").has_value(); }))
      << intake.stderr_text();
  const int port = intake.LogField("serving", "metrics_port")->get<int>();

  const std::string response = HttpGet(port, "/metrics");
  EXPECT_THAT(response, HasSubstr("200 OK"));
  std::vector<std::string> missing;
  for (const char* series :
       {"# TYPE process_cpu_seconds_total counter\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_virtual_memory_bytes gauge\n", "# TYPE process_open_fds gauge\n",
        "# TYPE process_max_fds gauge\n", "# TYPE process_start_time_seconds gauge\n"}) {
    if (response.find(series) == std::string::npos) missing.push_back(series);
  }
  EXPECT_THAT(missing, ::testing::IsEmpty()) << response;
  EXPECT_THAT(response, ::testing::Not(HasSubstr("\nprocess_resident_memory_bytes 0\n")));
  // The service's own series are still there beside them.
  EXPECT_THAT(response, HasSubstr("# TYPE flywheel_"));

  EXPECT_EQ(intake.Terminate(absl::Seconds(30)), 0) << intake.stderr_text();
}

}  // namespace
}  // namespace flywheel
