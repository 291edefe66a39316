#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/config/config.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/kafka/record.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "flywheel/runtime/service_main.h"
#include "flywheel/runtime/settings.h"
#include "flywheel/runtime/testing/test_auth.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace flywheel::runtime::testing {

/// How a service is started: what its `ServiceSpec::start` is (StartIntake,
/// StartRouting…).
using StartFunction = std::function<absl::StatusOr<std::unique_ptr<App>>(
    const CommonSettings&, config::Config&, metrics::Metrics&)>;

/// A gRPC channel to the loopback port `app` serves on.
std::shared_ptr<::grpc::Channel> ChannelTo(const App& app);

/// A client context whose call gives up after `deadline`.
std::unique_ptr<::grpc::ClientContext> CallContext(absl::Duration deadline = absl::Seconds(30));

/// A GoogleTest fixture for a test against a running service, on the test
/// bed's broker and Redis. `SetUp` makes fresh settings (`IntegrationSettings`:
/// a topic prefix no other test uses, this test's Redis key prefix, port 0),
/// creates the topics given to `CreateTopicsBeforeStart`, builds the
/// service's `config::Config` from its YAML, starts the service
/// with its own `metrics::Metrics` and opens a gRPC channel to it. Services
/// added with `StartAlongside` start before it, in the order added.
/// `TearDown` stops the service under test, then the others in reverse, then
/// deletes the test's Redis keys. Derive from it and pass the start function:
///
///   class IntakeTest : public runtime::testing::ServiceFixture {
///    protected:
///     IntakeTest() : ServiceFixture(StartIntake, "outbox:\n  relay_interval: 200ms\n") {}
///   };
///
/// Used from the test's thread only.
class ServiceFixture : public redis::RedisTestEnv {
 protected:
  /// `start` is the service under test; `config_yaml` its config file's text.
  explicit ServiceFixture(StartFunction start, std::string config_yaml = "{}");
  ~ServiceFixture() override;

  /// Replaces the service's config text. Only before `SetUp` starts it (in
  /// the derived constructor, or its `SetUp` before this one's).
  void SetConfigYaml(std::string yaml);

  /// Another service for `SetUp` to start before the service under test,
  /// on the same settings, with its own config from `config_yaml`; it is
  /// stopped after the service under test. Only before `SetUp`. Returns the
  /// metrics it records into (owned by the fixture).
  metrics::Metrics& StartAlongside(StartFunction start, std::string config_yaml = "{}");

  /// Topics for `SetUp` to create, prefixed, before it starts any service:
  /// for a test that stands in for the service owning a topic the service
  /// under test reads. Names are catalog names. Only before `SetUp`.
  void CreateTopicsBeforeStart(std::vector<kafka::TopicSpec> topics);

  void SetUp() override;
  void TearDown() override;

  /// This test's settings: its topic prefix, Redis endpoint and key prefix.
  const CommonSettings& settings() const { return settings_; }
  /// The config the service under test was started with.
  config::Config& config();
  /// The metrics of the service under test.
  metrics::Metrics& metrics();
  /// The service under test, started.
  App& app();
  /// The services' auth: every config gets its `auth:` section from it;
  /// `auth().CallAs("acme")` is a call context with a token.
  const TestAuth& auth() const { return auth_; }
  TestAuth& mutable_auth() { return auth_; }
  /// A channel to the service under test's gRPC port.
  const std::shared_ptr<::grpc::Channel>& channel() const { return channel_; }

  /// Every record on the prefixed topic `name`, read once it holds at least
  /// `at_least` (waiting up to a minute for that; then reading what there
  /// is). With `at_least` 0, what it holds now.
  std::vector<kafka::Record> RecordsOn(const std::string& name, size_t at_least = 0);

  /// Sends `event` to the prefixed topic `name` and waits for the broker's
  /// acknowledgement; fails the test when it cannot.
  void Publish(const std::string& name, const kafka::CloudEvent& event);

 private:
  struct Service;
  void Start(Service& service, const CommonSettings& settings);

  TestAuth auth_;
  CommonSettings settings_;
  std::unique_ptr<Service> service_;
  std::vector<std::unique_ptr<Service>> alongside_;
  std::vector<kafka::TopicSpec> topics_before_start_;
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<kafka::Producer> producer_;  // made on the first Publish
};

}  // namespace flywheel::runtime::testing
