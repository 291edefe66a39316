#include "intake_app.h"

#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/server.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/log/log.h"
#include "intake.h"
#include "intake_grpc.h"

namespace flywheel::intake {
namespace {

class App final : public runtime::App {
 public:
  App(std::unique_ptr<kafka::Producer> producer, const runtime::CommonSettings& settings,
      metrics::Metrics& metrics)
      : producer_(std::move(producer)),
        publisher_(*producer_, "//flywheel/intake"),
        intake_metrics_(metrics),
        intake_({.request_types = DefaultRequestTypes(),
                 .requests_topic = settings.Topic(events::kRequestsTopic)},
                publisher_, intake_metrics_, SystemClock::Instance()),
        grpc_(intake_) {}

  ~App() override { Stop(); }

  absl::Status Serve(const runtime::CommonSettings& settings, metrics::Metrics& metrics) {
    FLYWHEEL_ASSIGN_OR_RETURN(server_, rpc::Server::Start({.address = settings.grpc_listen,
                                                           .service_name = "intake",
                                                           .drain_timeout = settings.drain_timeout},
                                                          {&grpc_}, metrics));
    return absl::OkStatus();
  }

  int grpc_port() const override { return server_->port(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (server_) server_->Shutdown();
    if (absl::Status st = producer_->Flush(std::chrono::seconds(10)); !st.ok()) {
      log::Warn("producer did not flush", {{"error", st.ToString()}});
    }
  }

 private:
  std::unique_ptr<kafka::Producer> producer_;
  kafka::KafkaEventPublisher publisher_;
  IntakeMetrics intake_metrics_;
  Intake intake_;
  IntakeGrpc grpc_;
  std::unique_ptr<rpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::App>> StartIntake(const runtime::CommonSettings& settings,
                                                          config::Config& /*config*/,
                                                          metrics::Metrics& metrics) {
  FLYWHEEL_RETURN_IF_ERROR(
      kafka::EnsureTopics(settings.kafka_bootstrap_servers,
                          {{.name = settings.Topic(events::kRequestsTopic), .partitions = 6}}));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto producer, kafka::Producer::Create({.bootstrap_servers = settings.kafka_bootstrap_servers,
                                              .client_id = "flywheel-intake"},
                                             &metrics));
  auto app = std::make_unique<App>(std::move(producer), settings, metrics);
  FLYWHEEL_RETURN_IF_ERROR(app->Serve(settings, metrics));
  return app;
}

}  // namespace flywheel::intake
