#include "flywheel/runtime/testing/integration_settings.h"

#include "flywheel/core/id.h"
#include "flywheel/kafka/testing/kafka_test_env.h"

namespace flywheel::runtime::testing {

absl::StatusOr<CommonSettings> IntegrationSettings(const std::string& redis_endpoint,
                                                   const std::string& redis_key_prefix) {
  auto kafka = kafka::testing::BootstrapServers();
  if (!kafka.ok()) return kafka.status();
  CommonSettings settings;
  settings.grpc_listen = "127.0.0.1:0";
  settings.metrics_listen = "127.0.0.1:0";
  settings.kafka_bootstrap_servers = *kafka;
  settings.redis_endpoint = redis_endpoint;
  settings.drain_timeout = absl::Seconds(5);
  settings.kafka_topic_prefix = "test." + NewRandomId().substr(0, 12) + ".";
  settings.redis_key_prefix = redis_key_prefix;
  return settings;
}

}  // namespace flywheel::runtime::testing
