#include "flywheel/runtime/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::runtime {
namespace {

using ::testing::HasSubstr;

TEST(ConfigPathTest, CommandLineWins) {
  char prog[] = "svc", flag[] = "--config", file[] = "/etc/a.yaml", eq[] = "--config=/b.yaml";
  char* argv1[] = {prog, flag, file};
  EXPECT_EQ(ConfigPath(3, argv1), "/etc/a.yaml");
  char* argv2[] = {prog, eq};
  EXPECT_EQ(ConfigPath(2, argv2), "/b.yaml");
}

TEST(CommonSettingsTest, DefaultsAndOverrides) {
  auto config = config::Config::FromString(
      "kafka:\n  bootstrap_servers: k:9092\n", "test.yaml",
      {{"FLYWHEEL_GRPC_LISTEN", "127.0.0.1:7000"}, {"FLYWHEEL_REDIS_ENDPOINT", "r:6379"}});
  ASSERT_TRUE(config.ok()) << config.status();
  CommonSettings s = ReadCommonSettings(*config, "intake", /*needs_redis=*/true);
  EXPECT_TRUE(config->Check().ok()) << config->Check();
  EXPECT_EQ(s.grpc_listen, "127.0.0.1:7000");
  EXPECT_EQ(s.metrics_listen, "0.0.0.0:9464");
  EXPECT_EQ(s.kafka_bootstrap_servers, "k:9092");
  EXPECT_EQ(s.redis_endpoint, "r:6379");
  EXPECT_EQ(s.drain_timeout, absl::Seconds(20));
}

TEST(CommonSettingsTest, MissingKafkaIsNamed) {
  auto config = config::Config::FromString("{}", "test.yaml", {});
  ASSERT_TRUE(config.ok());
  ReadCommonSettings(*config, "intake", /*needs_redis=*/false);
  EXPECT_THAT(std::string(config->Check().message()), HasSubstr("kafka.bootstrap_servers"));
}

}  // namespace
}  // namespace flywheel::runtime
