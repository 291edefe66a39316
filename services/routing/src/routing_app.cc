#include "routing_app.h"

#include "assigner.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/server.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/log/log.h"
#include "flywheel/redis/endpoint.h"
#include "flywheel/redis/pool.h"
#include "flywheel/runtime/reloader.h"
#include "policy_parser.h"
#include "redis_workflow_store.h"
#include "router.h"
#include "routing_grpc.h"
#include "workflow_ops.h"

namespace flywheel::routing {
namespace {

class App final : public RoutingApp {
 public:
  App(std::unique_ptr<redis::Pool> pool, std::unique_ptr<kafka::Producer> producer,
      std::shared_ptr<const Policy> policy, const runtime::CommonSettings& settings,
      metrics::Metrics& metrics)
      : pool_(std::move(pool)),
        producer_(std::move(producer)),
        publisher_(*producer_, "//flywheel/routing"),
        store_(*pool_, settings.redis_key_prefix),
        routing_metrics_(metrics),
        policy_(std::move(policy)),
        assigner_(store_, publisher_, routing_metrics_,
                  {.workflows = settings.Topic(events::kWorkflowsTopic),
                   .timer_requests = settings.Topic(events::kTimerRequestsTopic),
                   .capacity = settings.Topic(events::kCapacityTopic)}),
        router_(policy_, assigner_, SystemClock::Instance()),
        ops_(policy_, assigner_, SystemClock::Instance()),
        grpc_(ops_) {}

  ~App() override { Stop(); }

  absl::Status Run(const runtime::CommonSettings& settings, const std::string& policy_file,
                   metrics::Metrics& metrics) {
    if (!policy_file.empty()) {
      FLYWHEEL_ASSIGN_OR_RETURN(
          reloader_, runtime::Reloader::Start(
                         {.path = policy_file, .service = "routing"},
                         [this](const std::string& path) { return Load(path); }, metrics));
    }
    FLYWHEEL_ASSIGN_OR_RETURN(
        consumer_,
        kafka::Consumer::Create(
            {.bootstrap_servers = settings.kafka_bootstrap_servers,
             .group_id = settings.Topic("flywheel-routing"),
             .group_instance_id = settings.kafka_group_instance_id,
             .topics = {settings.Topic(events::kRequestsTopic)},
             .dead_letter_topic = settings.Topic(events::kRoutingDeadLetterTopic),
             .handler_name = "routing.requests"},
            [this](const kafka::ConsumedEvent& consumed) { return router_.Handle(consumed); },
            &metrics));
    FLYWHEEL_RETURN_IF_ERROR(consumer_->Start());
    FLYWHEEL_ASSIGN_OR_RETURN(server_, rpc::Server::Start({.address = settings.grpc_listen,
                                                           .service_name = "routing",
                                                           .drain_timeout = settings.drain_timeout},
                                                          {&grpc_}, metrics));
    return absl::OkStatus();
  }

  absl::Status ReloadPolicyNow() override {
    if (!reloader_) {
      return absl::FailedPreconditionError(
          "routing runs on the built-in policy; no file to reload");
    }
    return reloader_->ReloadNow();
  }

  int grpc_port() const override { return server_->port(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (server_) server_->Shutdown();
    if (consumer_) consumer_->Stop();
    reloader_.reset();
    if (absl::Status st = producer_->Flush(std::chrono::seconds(10)); !st.ok()) {
      log::Warn("producer did not flush", {{"error", st.ToString()}});
    }
  }

 private:
  // Runs on the reloader's thread (and the caller's for the first load).
  absl::Status Load(const std::string& path) {
    FLYWHEEL_ASSIGN_OR_RETURN(Policy policy, LoadPolicyFile(path));
    policy_.Set(std::make_shared<const Policy>(std::move(policy)));
    assigner_.AssignQueuedAfterReload(*policy_.Get());  // e.g. a raised WIP limit
    return absl::OkStatus();
  }

  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<kafka::Producer> producer_;
  kafka::KafkaEventPublisher publisher_;
  RedisWorkflowStore store_;
  RoutingMetrics routing_metrics_;
  PolicyHolder policy_;
  Assigner assigner_;
  Router router_;
  WorkflowOps ops_;
  RoutingGrpc grpc_;
  std::unique_ptr<runtime::Reloader> reloader_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<rpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<RoutingApp>> StartRouting(const runtime::CommonSettings& settings,
                                                         config::Config& config,
                                                         metrics::Metrics& metrics) {
  const std::string policy_file = config.Get<std::string>("routing.policy_file", "");
  FLYWHEEL_RETURN_IF_ERROR(config.Check());
  // The built-in policy is parsed here too, so a broken default fails loudly.
  FLYWHEEL_ASSIGN_OR_RETURN(Policy builtin, ParsePolicy(DefaultPolicyYaml()));
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                            redis::ParseEndpoint(settings.redis_endpoint));
  FLYWHEEL_ASSIGN_OR_RETURN(auto pool, redis::Pool::Create({.connection = {.endpoint = endpoint}}));
  FLYWHEEL_RETURN_IF_ERROR(kafka::EnsureTopics(
      settings.kafka_bootstrap_servers,
      {{.name = settings.Topic(events::kRequestsTopic), .partitions = events::kStreamPartitions},
       {.name = settings.Topic(events::kWorkflowsTopic), .partitions = events::kStreamPartitions},
       {.name = settings.Topic(events::kTimerRequestsTopic),
        .partitions = events::kStreamPartitions},
       {.name = settings.Topic(events::kCapacityTopic), .partitions = 3},
       {.name = settings.Topic(events::kRoutingDeadLetterTopic), .partitions = 1}}));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto producer, kafka::Producer::Create({.bootstrap_servers = settings.kafka_bootstrap_servers,
                                              .client_id = "flywheel-routing"},
                                             &metrics));
  auto app =
      std::make_unique<App>(std::move(pool), std::move(producer),
                            std::make_shared<const Policy>(std::move(builtin)), settings, metrics);
  FLYWHEEL_RETURN_IF_ERROR(app->Run(settings, policy_file, metrics));
  return app;
}

}  // namespace flywheel::routing
