#include "routing_app.h"

#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/server.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/redis/endpoint.h"
#include "flywheel/redis/pool.h"
#include "redis_routed_store.h"
#include "router.h"

namespace flywheel::routing {
namespace {

class App final : public runtime::App {
 public:
  App(std::unique_ptr<redis::Pool> pool, const runtime::CommonSettings& settings,
      metrics::Metrics& metrics)
      : pool_(std::move(pool)),
        store_(*pool_, settings.redis_key_prefix),
        routing_metrics_(metrics),
        router_(store_, routing_metrics_, SystemClock::Instance()) {}

  ~App() override { Stop(); }

  absl::Status Run(const runtime::CommonSettings& settings, metrics::Metrics& metrics) {
    FLYWHEEL_ASSIGN_OR_RETURN(
        consumer_,
        kafka::Consumer::Create(
            {.bootstrap_servers = settings.kafka_bootstrap_servers,
             .group_id = settings.Topic("flywheel-routing"),
             .topics = {settings.Topic(events::kRequestsTopic)},
             .dead_letter_topic = settings.Topic(events::kRoutingDeadLetterTopic),
             .handler_name = "routing.requests"},
            [this](const kafka::ConsumedEvent& consumed) { return router_.Handle(consumed); },
            &metrics));
    FLYWHEEL_RETURN_IF_ERROR(consumer_->Start());
    FLYWHEEL_ASSIGN_OR_RETURN(server_, rpc::Server::Start({.address = settings.grpc_listen,
                                                           .service_name = "routing",
                                                           .drain_timeout = settings.drain_timeout},
                                                          {}, metrics));
    return absl::OkStatus();
  }

  int grpc_port() const override { return server_->port(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (server_) server_->Shutdown();
    if (consumer_) consumer_->Stop();
  }

 private:
  std::unique_ptr<redis::Pool> pool_;
  RedisRoutedStore store_;
  RoutingMetrics routing_metrics_;
  Router router_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<rpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::App>> StartRouting(const runtime::CommonSettings& settings,
                                                           config::Config& /*config*/,
                                                           metrics::Metrics& metrics) {
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                            redis::ParseEndpoint(settings.redis_endpoint));
  FLYWHEEL_ASSIGN_OR_RETURN(auto pool, redis::Pool::Create({.connection = {.endpoint = endpoint}}));
  FLYWHEEL_RETURN_IF_ERROR(kafka::EnsureTopics(
      settings.kafka_bootstrap_servers,
      {{.name = settings.Topic(events::kRequestsTopic), .partitions = 6},
       {.name = settings.Topic(events::kRoutingDeadLetterTopic), .partitions = 1}}));
  auto app = std::make_unique<App>(std::move(pool), settings, metrics);
  FLYWHEEL_RETURN_IF_ERROR(app->Run(settings, metrics));
  return app;
}

}  // namespace flywheel::routing
