#include "flywheel/runtime/testing/service_fixture.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/runtime/testing/integration_settings.h"

namespace flywheel::runtime::testing {

std::shared_ptr<::grpc::Channel> ChannelTo(const App& app) {
  return ::grpc::CreateChannel("127.0.0.1:" + std::to_string(app.grpc_port()),
                               ::grpc::InsecureChannelCredentials());
}

std::unique_ptr<::grpc::ClientContext> CallContext(absl::Duration deadline) {
  auto context = std::make_unique<::grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  return context;
}

struct ServiceFixture::Service {
  StartFunction start;
  std::string config_yaml;
  std::optional<config::Config> config;
  metrics::Metrics metrics;
  std::unique_ptr<App> app;
};

ServiceFixture::ServiceFixture(StartFunction start, std::string config_yaml)
    : service_(std::make_unique<Service>()) {
  service_->start = std::move(start);
  service_->config_yaml = std::move(config_yaml);
}

ServiceFixture::~ServiceFixture() {
  // Destroyed like they stop: the service under test first, then the
  // others in reverse.
  service_.reset();
  while (!alongside_.empty()) alongside_.pop_back();
}

void ServiceFixture::SetConfigYaml(std::string yaml) { service_->config_yaml = std::move(yaml); }

metrics::Metrics& ServiceFixture::StartAlongside(StartFunction start, std::string config_yaml) {
  auto service = std::make_unique<Service>();
  service->start = std::move(start);
  service->config_yaml = std::move(config_yaml);
  alongside_.push_back(std::move(service));
  return alongside_.back()->metrics;
}

void ServiceFixture::CreateTopicsBeforeStart(std::vector<kafka::TopicSpec> topics) {
  for (auto& topic : topics) topics_before_start_.push_back(std::move(topic));
}

void ServiceFixture::Start(Service& service, const CommonSettings& settings) {
  auto config = config::Config::FromString(auth_.WithAuth(service.config_yaml), "test", {});
  ASSERT_TRUE(config.ok()) << config.status();
  service.config.emplace(*std::move(config));
  auto app = service.start(settings, *service.config, service.metrics);
  ASSERT_TRUE(app.ok()) << app.status();
  service.app = *std::move(app);
}

void ServiceFixture::SetUp() {
  RedisTestEnv::SetUp();
  if (HasFatalFailure()) return;
  auto settings = IntegrationSettings(options().endpoint.ToString(), prefix());
  ASSERT_TRUE(settings.ok()) << settings.status();
  settings_ = *settings;
  std::vector<kafka::TopicSpec> topics = topics_before_start_;
  for (auto& topic : topics) topic.name = settings_.Topic(topic.name);
  absl::Status created = kafka::EnsureTopics(settings_.kafka_bootstrap_servers, topics);
  ASSERT_TRUE(created.ok()) << created;
  for (const auto& service : alongside_) {
    Start(*service, settings_);
    if (HasFatalFailure()) return;
  }
  Start(*service_, settings_);
  if (HasFatalFailure()) return;
  channel_ = ChannelTo(*service_->app);
}

void ServiceFixture::TearDown() {
  if (service_->app) service_->app->Stop();
  for (auto it = alongside_.rbegin(); it != alongside_.rend(); ++it) {
    if ((*it)->app) (*it)->app->Stop();
  }
  RedisTestEnv::TearDown();
}

config::Config& ServiceFixture::config() { return *service_->config; }
metrics::Metrics& ServiceFixture::metrics() { return service_->metrics; }
App& ServiceFixture::app() { return *service_->app; }

std::vector<kafka::Record> ServiceFixture::RecordsOn(const std::string& name, size_t at_least) {
  const std::string topic = settings_.Topic(name);
  flywheel::testing::WaitFor([&] {
    auto counts = kafka::RecordCounts(settings_.kafka_bootstrap_servers, topic);
    size_t total = 0;
    if (counts.ok()) {
      for (const auto& [partition, count] : *counts) total += static_cast<size_t>(count);
    }
    return total >= at_least;
  });
  return kafka::testing::ReadAll(settings_.kafka_bootstrap_servers, topic);
}

void ServiceFixture::Publish(const std::string& name, const kafka::CloudEvent& event) {
  if (!producer_) {
    auto producer =
        kafka::Producer::Create({.bootstrap_servers = settings_.kafka_bootstrap_servers});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }
  auto record = kafka::EncodeBinary(event, settings_.Topic(name));
  ASSERT_TRUE(record.ok()) << record.status();
  auto sent = producer_->SendAndWait(*record);
  ASSERT_TRUE(sent.ok()) << sent.status();
}

}  // namespace flywheel::runtime::testing
