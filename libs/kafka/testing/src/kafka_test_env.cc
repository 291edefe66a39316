#include "flywheel/kafka/testing/kafka_test_env.h"

#include <cstdlib>
#include <mutex>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/consumer.h"

namespace flywheel::kafka::testing {

absl::StatusOr<std::string> BootstrapServers() {
  const char* value = std::getenv("FLYWHEEL_TEST_KAFKA");
  if (value == nullptr || *value == '\0') {
    return absl::FailedPreconditionError(
        "FLYWHEEL_TEST_KAFKA is not set: run integration tests through the test bed "
        "(./flywheel test) or point it at a broker");
  }
  return std::string(value);
}

absl::StatusOr<std::string> CreateUniqueTopic(const std::string& bootstrap_servers,
                                              const std::string& name, int partitions,
                                              const std::map<std::string, std::string>& configs) {
  std::string topic = "test." + NewRandomId().substr(0, 12) + "." + name;
  if (absl::Status st = EnsureTopics(
          bootstrap_servers,
          {{.name = topic, .partitions = partitions, .replication_factor = 1, .configs = configs}});
      !st.ok()) {
    return st;
  }
  return topic;
}

std::vector<Record> ReadTopic(const std::string& bootstrap_servers, const std::string& topic,
                              size_t count, absl::Duration deadline) {
  std::mutex mu;
  std::vector<Record> seen;
  ConsumerOptions options;
  options.bootstrap_servers = bootstrap_servers;
  options.group_id = "test-reader-" + NewRandomId().substr(0, 12);
  // A reader is its group's only member; librdkafka 2.0.2's sticky assignor
  // could abort the test process when it is destroyed (see ConsumerOptions).
  options.properties["partition.assignment.strategy"] = "range";
  options.topics = {topic};
  options.dead_letter_topic = topic + ".reader-dlq";
  options.handler_name = "test.reader";
  // Dead-letter topics hold records that may not decode: read them raw.
  options.decode_cloud_events = false;
  auto consumer = Consumer::Create(
      options,
      [&](const ConsumedEvent& consumed) {
        std::lock_guard lock(mu);
        seen.push_back(consumed.record);
        return absl::OkStatus();
      },
      nullptr);
  if (!consumer.ok() || !(*consumer)->Start().ok()) return {};
  flywheel::testing::WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return seen.size() >= count;
      },
      deadline);
  (*consumer)->Stop();
  std::lock_guard lock(mu);
  return seen;
}

std::vector<Record> ReadAll(const std::string& bootstrap_servers, const std::string& topic,
                            absl::Duration deadline) {
  auto counts = RecordCounts(bootstrap_servers, topic);
  if (!counts.ok()) return {};
  size_t total = 0;
  for (const auto& [partition, count] : *counts) total += static_cast<size_t>(count);
  if (total == 0) return {};
  return ReadTopic(bootstrap_servers, topic, total, deadline);
}

}  // namespace flywheel::kafka::testing
