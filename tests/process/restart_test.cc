// A service killed with SIGKILL and started again takes its Kafka partitions
// back at once: static group membership (kafka.group_instance_id, the host
// name by default) lets the group hand the restarted member the dead one's
// assignment instead of waiting out its session (45 s).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/admin.h"
#include "service_process.h"

namespace flywheel {
namespace {

using ::flywheel::testing::HttpGet;
using ::flywheel::testing::SampleValue;
using ::flywheel::testing::ServiceProcess;
using ::flywheel::testing::WaitFor;

// How many partitions of the requests topic routing's member holds, from
// its /metrics; nullopt until it serves them.
std::optional<double> AssignedPartitions(const ServiceProcess& routing, const std::string& group) {
  auto port = routing.LogField("serving", "metrics_port");
  if (!port) return std::nullopt;
  return SampleValue(HttpGet(port->get<int>(), "/metrics"),
                     "flywheel_kafka_consumer_assigned_partitions{group=\"" + group + "\"}");
}

TEST(RestartTest, KilledRoutingTakesItsPartitionsBackWellBeforeTheSessionTimesOut) {
  const std::string id = NewRandomId().substr(0, 12);
  const std::vector<std::string> env = testing::TestBedServiceEnv(id);
  ASSERT_FALSE(env.empty()) << "FLYWHEEL_TEST_KAFKA and FLYWHEEL_TEST_REDIS are not set: run "
                               "through the test bed";
  const std::string group = "test." + id + ".flywheel-routing";
  // Intake owns the requests topic routing consumes; this test stands in.
  const char* kafka = std::getenv("FLYWHEEL_TEST_KAFKA");
  ASSERT_TRUE(kafka::EnsureTopics(kafka, {{.name = "test." + id + "." + events::kRequestsTopic,
                                           .partitions = events::kStreamPartitions}})
                  .ok());
  const double all = events::kStreamPartitions;

  {
    ServiceProcess first;
    ASSERT_TRUE(first.Start(FLYWHEEL_ROUTING_BIN, env));
    ASSERT_TRUE(WaitFor([&] { return AssignedPartitions(first, group) == all; }))
        << first.stderr_text();
    first.Kill();
  }

  ServiceProcess restarted;
  ASSERT_TRUE(restarted.Start(FLYWHEEL_ROUTING_BIN, env));
  // Before static membership the group waited for the killed member's
  // session (45 s) before giving the new one anything.
  ASSERT_TRUE(
      WaitFor([&] { return AssignedPartitions(restarted, group) == all; }, absl::Seconds(20)))
      << "holds " << AssignedPartitions(restarted, group).value_or(-1) << " partitions\n"
      << restarted.stderr_text();
  EXPECT_EQ(restarted.Terminate(absl::Seconds(30)), 0) << restarted.stderr_text();
}

}  // namespace
}  // namespace flywheel
