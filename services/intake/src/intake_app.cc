#include "intake_app.h"

#include "absl/strings/str_cat.h"
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
#include "flywheel/runtime/periodic.h"
#include "flywheel/runtime/reloader.h"
#include "intake.h"
#include "intake_grpc.h"
#include "lifecycle_handler.h"
#include "policy_parser.h"
#include "redis_request_store.h"
#include "submissions_handler.h"

namespace flywheel::intake {
namespace {

// The most events of one tenant one relay pass publishes.
constexpr size_t kRelayBatch = 500;

// How long intake's producer tries to deliver a record before the call that
// published it gives up (librdkafka's message.timeout.ms).
constexpr absl::Duration kDeliveryTimeout = absl::Seconds(10);

// The relay leaves alone what is younger than this, since the call that
// stored it may still be publishing it; past the delivery timeout that call
// has given up. Relaying sooner would only publish twice (under one event
// id, which consumers deduplicate).
const absl::Duration kRelayGrace = kDeliveryTimeout + absl::Seconds(5);

class App final : public runtime::App {
 public:
  App(std::shared_ptr<const Policy> policy, std::unique_ptr<redis::Pool> pool,
      std::unique_ptr<kafka::Producer> producer, const runtime::CommonSettings& settings,
      metrics::Metrics& metrics)
      : policy_(std::move(policy)),
        pool_(std::move(pool)),
        store_(*pool_, settings.redis_key_prefix),
        producer_(std::move(producer)),
        publisher_(*producer_, "//flywheel/intake"),
        intake_metrics_(metrics),
        intake_({.requests_topic = settings.Topic(events::kRequestsTopic)}, policy_, store_,
                publisher_, intake_metrics_, SystemClock::Instance()),
        submissions_(intake_, publisher_, settings.Topic(events::kRequestsTopic), intake_metrics_),
        lifecycle_(store_, intake_metrics_, SystemClock::Instance()),
        grpc_(intake_) {}

  ~App() override { Stop(); }

  absl::Status Run(const runtime::CommonSettings& settings, const std::string& policy_file,
                   absl::Duration relay_interval, metrics::Metrics& metrics) {
    if (!policy_file.empty()) {
      FLYWHEEL_ASSIGN_OR_RETURN(
          reloader_, runtime::Reloader::Start(
                         {.path = policy_file, .service = "intake"},
                         [this](const std::string& path) -> absl::Status {
                           FLYWHEEL_ASSIGN_OR_RETURN(Policy policy, LoadPolicyFile(path));
                           policy_.Set(std::make_shared<const Policy>(std::move(policy)));
                           return absl::OkStatus();
                         },
                         metrics));
    }
    FLYWHEEL_ASSIGN_OR_RETURN(
        consumer_,
        kafka::Consumer::Create(
            {.bootstrap_servers = settings.kafka_bootstrap_servers,
             .group_id = settings.Topic("flywheel-intake"),
             .group_instance_id = settings.kafka_group_instance_id,
             .topics = {settings.Topic(events::kSubmissionsTopic)},
             .dead_letter_topic = settings.Topic(events::kIntakeDeadLetterTopic),
             .handler_name = "intake.submissions",
             // Submissions may be up to 1 MiB plus envelope.
             .properties = {{"fetch.max.bytes", "8388608"},
                            {"max.partition.fetch.bytes", "4194304"}}},
            [this](const kafka::ConsumedEvent& consumed) { return submissions_.Handle(consumed); },
            &metrics));
    FLYWHEEL_RETURN_IF_ERROR(consumer_->Start());
    FLYWHEEL_ASSIGN_OR_RETURN(
        lifecycle_consumer_,
        kafka::Consumer::Create(
            {.bootstrap_servers = settings.kafka_bootstrap_servers,
             .group_id = settings.Topic("flywheel-intake-lifecycle"),
             .group_instance_id = settings.kafka_group_instance_id,
             .topics = {settings.Topic(events::kWorkflowsTopic)},
             .dead_letter_topic = settings.Topic(events::kIntakeDeadLetterTopic),
             .handler_name = "intake.lifecycle",
             // Routing owns and creates the topic; intake may start first,
             // so look for it often rather than every five minutes.
             .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}},
            [this](const kafka::ConsumedEvent& consumed) { return lifecycle_.Handle(consumed); },
            &metrics));
    FLYWHEEL_RETURN_IF_ERROR(lifecycle_consumer_->Start());
    relay_ = runtime::Periodic::Start("intake.outbox_relay", relay_interval, [this] {
      if (auto pass = intake_.RelayUnannounced(kRelayGrace, kRelayBatch); !pass.ok()) {
        log::Warn("outbox relay pass failed", {{"error", pass.status().ToString()}});
      }
    });
    FLYWHEEL_ASSIGN_OR_RETURN(server_,
                              rpc::Server::Start({.address = settings.grpc_listen,
                                                  .service_name = "intake",
                                                  .drain_timeout = settings.drain_timeout,
                                                  .max_message_bytes = kMaxGrpcMessageBytes},
                                                 {&grpc_}, metrics));
    return absl::OkStatus();
  }

  int grpc_port() const override { return server_->port(); }

  void Stop() override {
    if (stopped_) return;
    stopped_ = true;
    if (server_) server_->Shutdown();
    if (relay_) relay_->Stop();
    if (lifecycle_consumer_) lifecycle_consumer_->Stop();
    if (consumer_) consumer_->Stop();
    reloader_.reset();
    if (absl::Status st = producer_->Flush(std::chrono::seconds(10)); !st.ok()) {
      log::Warn("producer did not flush", {{"error", st.ToString()}});
    }
  }

 private:
  LivePolicy policy_;
  std::unique_ptr<redis::Pool> pool_;
  RedisRequestStore store_;
  std::unique_ptr<kafka::Producer> producer_;
  kafka::KafkaEventPublisher publisher_;
  IntakeMetrics intake_metrics_;
  Intake intake_;
  SubmissionsHandler submissions_;
  LifecycleHandler lifecycle_;
  IntakeGrpc grpc_;
  std::unique_ptr<runtime::Reloader> reloader_;
  std::unique_ptr<kafka::Consumer> consumer_;
  std::unique_ptr<kafka::Consumer> lifecycle_consumer_;
  std::unique_ptr<runtime::Periodic> relay_;
  std::unique_ptr<rpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<runtime::App>> StartIntake(const runtime::CommonSettings& settings,
                                                          config::Config& config,
                                                          metrics::Metrics& metrics) {
  const std::string policy_file = config.Get<std::string>(kPolicyFileKey, "");
  const auto relay_interval =
      config.Get<absl::Duration>(kOutboxRelayIntervalKey, absl::Seconds(5),
                                 config::InRange(absl::Milliseconds(100), absl::Minutes(10)));
  // Every key is declared now: refuse bad config before connecting anywhere.
  FLYWHEEL_RETURN_IF_ERROR(config.Check());
  // The shipped defaults; replaced at once by the file when one is named.
  auto defaults = ParsePolicy(DefaultPolicyYaml());
  if (!defaults.ok()) {
    return absl::InternalError("the built-in intake policy is invalid: " +
                               defaults.status().ToString());
  }
  FLYWHEEL_ASSIGN_OR_RETURN(redis::Endpoint endpoint,
                            redis::ParseEndpoint(settings.redis_endpoint));
  FLYWHEEL_ASSIGN_OR_RETURN(auto pool, redis::Pool::Create({.connection = {.endpoint = endpoint}}));
  FLYWHEEL_RETURN_IF_ERROR(kafka::EnsureTopics(
      settings.kafka_bootstrap_servers,
      {{.name = settings.Topic(events::kRequestsTopic), .partitions = events::kStreamPartitions},
       {.name = settings.Topic(events::kSubmissionsTopic), .partitions = events::kStreamPartitions},
       {.name = settings.Topic(events::kIntakeDeadLetterTopic), .partitions = 1}}));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto producer,
      kafka::Producer::Create(
          {.bootstrap_servers = settings.kafka_bootstrap_servers,
           .client_id = "flywheel-intake",
           // A request may carry up to 1 MiB of spec;
           // compressed, its event fits the broker's
           // default 1 MiB record limit.
           .properties = {{"compression.type", "lz4"},
                          {"message.max.bytes", "4194304"},
                          {"message.timeout.ms",
                           absl::StrCat(absl::ToInt64Milliseconds(kDeliveryTimeout))}}},
          &metrics));
  auto app = std::make_unique<App>(std::make_shared<const Policy>(*std::move(defaults)),
                                   std::move(pool), std::move(producer), settings, metrics);
  FLYWHEEL_RETURN_IF_ERROR(app->Run(settings, policy_file, relay_interval, metrics));
  return app;
}

}  // namespace flywheel::intake
