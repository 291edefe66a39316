// A service started with bad configuration must stop at once with exit code
// 2 and one line on stderr naming the key and what is wrong, before it
// touches Kafka or Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "flywheel/core/id.h"

namespace flywheel {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;
  std::string stderr_text;
};

// Runs `command` with `env` prepended, in a clean environment apart from PATH.
Outcome RunService(const std::string& env, const std::string& command) {
  const std::string line = "env -i PATH=/usr/bin:/bin " + env + " " + command + " 2>&1 >/dev/null";
  FILE* pipe = popen(line.c_str(), "r");
  Outcome outcome;
  if (pipe == nullptr) return outcome;
  std::array<char, 512> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) outcome.stderr_text += buffer.data();
  const int status = pclose(pipe);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

class ConfigExitTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string WriteConfig(const std::string& text) {
    const auto path =
        std::filesystem::temp_directory_path() / ("flywheel-config-" + NewRandomId() + ".yaml");
    std::ofstream(path) << text;
    files_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }
  std::vector<std::filesystem::path> files_;
};

TEST_P(ConfigExitTest, MissingRequiredKeyExitsTwoNamingTheKey) {
  Outcome out =
      RunService("", std::string(GetParam()) + " --config " + WriteConfig("log:\n  level: info\n"));
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("kafka.bootstrap_servers"));
  EXPECT_EQ(std::count(out.stderr_text.begin(), out.stderr_text.end(), '\n'), 1) << out.stderr_text;
}

TEST_P(ConfigExitTest, BadValueFromEnvironmentNamesTheVariable) {
  Outcome out = RunService(
      "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=k:9092 FLYWHEEL_REDIS_ENDPOINT=r:6379 "
      "FLYWHEEL_LOG_LEVEL=chatty",
      GetParam());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("log.level"));
  EXPECT_THAT(out.stderr_text, HasSubstr("FLYWHEEL_LOG_LEVEL"));
}

TEST_P(ConfigExitTest, UnknownKeyInFileIsRefused) {
  Outcome out =
      RunService("FLYWHEEL_GRPC_LISTEN=127.0.0.1:0 FLYWHEEL_AUTH_DEV_MODE=true",
                 std::string(GetParam()) + " --config " +
                     WriteConfig("kafka:\n  bootstrap_servers: k:9092\n  bootstrap_server: x\n"
                                 "redis:\n  endpoint: r:6379\n"));
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("kafka.bootstrap_server"));
}

TEST_P(ConfigExitTest, UnreadableYamlNamesTheFile) {
  const std::string path = WriteConfig("kafka: [unclosed\n");
  Outcome out = RunService("", std::string(GetParam()) + " --config " + path);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr(path));
}

TEST_P(ConfigExitTest, WithoutAuthConfiguredItDoesNotStart) {
  Outcome out = RunService("FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=k:9092 FLYWHEEL_REDIS_ENDPOINT=r:6379",
                           GetParam());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("auth.key_file: required but not set"));
}

TEST_P(ConfigExitTest, DevModeIsRefusedOffLoopback) {
  Outcome out = RunService(
      "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=k:9092 FLYWHEEL_REDIS_ENDPOINT=r:6379 "
      "FLYWHEEL_AUTH_DEV_MODE=true FLYWHEEL_GRPC_LISTEN=0.0.0.0:8080",
      GetParam());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("auth.dev_mode: dev mode is only allowed while "
                                         "grpc.listen is a loopback address"));
}

TEST_P(ConfigExitTest, AMissingCertificateFileIsNamedWithItsKey) {
  Outcome out = RunService(
      "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS=k:9092 FLYWHEEL_REDIS_ENDPOINT=r:6379 "
      "FLYWHEEL_AUTH_DEV_MODE=true FLYWHEEL_GRPC_LISTEN=127.0.0.1:0 "
      "FLYWHEEL_GRPC_TLS_CERT_FILE=/nonexistent/tls/server.pem "
      "FLYWHEEL_GRPC_TLS_KEY_FILE=/nonexistent/tls/server.key",
      GetParam());
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.stderr_text, HasSubstr("grpc.tls.cert_file: cannot be read: No such file or "
                                         "directory, got \"/nonexistent/tls/server.pem\""));
  EXPECT_THAT(out.stderr_text, HasSubstr("FLYWHEEL_GRPC_TLS_CERT_FILE"));
  EXPECT_EQ(std::count(out.stderr_text.begin(), out.stderr_text.end(), '\n'), 1) << out.stderr_text;
}

INSTANTIATE_TEST_SUITE_P(Services, ConfigExitTest,
                         ::testing::Values(FLYWHEEL_INTAKE_BIN, FLYWHEEL_ROUTING_BIN,
                                           FLYWHEEL_APPROVAL_BIN, FLYWHEEL_SCHEDULER_BIN,
                                           FLYWHEEL_LEAD_SCORING_BIN),
                         [](const auto& info) {
                           // .../services/<name>/flywheel-<name>
                           const std::string path = info.param;
                           std::string name = path.substr(path.rfind("flywheel-") + 9);
                           std::replace(name.begin(), name.end(), '-', '_');  // lead-scoring
                           return name;
                         });

}  // namespace
}  // namespace flywheel
