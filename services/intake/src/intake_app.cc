#include "intake_app.h"

#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/awaited_handlers.h"
#include "flywheel/runtime/service_kit.h"
#include "intake.h"
#include "intake_grpc.h"
#include "lifecycle_handler.h"
#include "policy_parser.h"
#include "redis_request_store.h"
#include "submissions_handler.h"

namespace flywheel::intake {
namespace {

runtime::ServiceDeclaration Declaration() {
  return {
      .name = "intake",
      .owned_topics = {{.name = events::kRequestsTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kSubmissionsTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kIntakeDeadLetterTopic, .partitions = 1}},
      .dead_letter_topic = events::kIntakeDeadLetterTopic,
      .consumers = {{.name = "submissions",
                     .topics = {events::kSubmissionsTopic},
                     .group = "flywheel-intake",
                     // Submissions may be up to 1 MiB plus envelope.
                     .properties = {{"fetch.max.bytes", "8388608"},
                                    {"max.partition.fetch.bytes", "4194304"}}},
                    // Routing owns the workflows topic; intake may start
                    // first, so it looks for it often.
                    {.name = "lifecycle",
                     .topics = {events::kWorkflowsTopic},
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}}},
      // A request may carry up to 1 MiB of spec; compressed, its event fits
      // the broker's default 1 MiB record limit.
      .producer_properties = {{"compression.type", "lz4"}, {"message.max.bytes", "4194304"}},
      .policy_file_key = kPolicyFileKey,
      .max_grpc_message_bytes = kMaxGrpcMessageBytes,
  };
}

// Intake's domain objects on the kit's parts.
class App final : public runtime::App {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, std::shared_ptr<const Policy> shipped)
      : kit_(std::move(kit)),
        policy_(std::move(shipped)),
        store_(kit_->redis_async(), kit_->settings().redis_key_prefix, kit_->outbox()),
        intake_metrics_(kit_->metrics()),
        intake_({.requests_topic = kit_->Topic(events::kRequestsTopic)}, policy_, store_,
                kit_->outbox(), intake_metrics_, SystemClock::Instance()),
        submissions_(
            intake_, kit_->publisher(), kit_->Topic(events::kRequestsTopic), intake_metrics_,
            [auth = &kit_->authenticator()](std::string_view source, std::string_view tenant) {
              return auth->CheckEventProducer(source, tenant);
            }),
        lifecycle_(store_, intake_metrics_, SystemClock::Instance()) {}

  ~App() override { Stop(); }

  absl::Status Run() {
    FLYWHEEL_RETURN_IF_ERROR(kit_->WatchPolicy(policy_, &LoadPolicyFile));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "submissions", kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) {
          return submissions_.Handle(c);
        })));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "lifecycle", kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) {
          return lifecycle_.Handle(c);
        })));
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(IntakeRoles()));
    grpc_ = std::make_unique<IntakeGrpc>(intake_, *guard_, kit_->io());
    return kit_->Serve({grpc_.get()});
  }

  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override { kit_->Stop(); }

 private:
  std::unique_ptr<runtime::ServiceKit> kit_;
  LivePolicy policy_;
  RedisRequestStore store_;
  IntakeMetrics intake_metrics_;
  Intake intake_;
  SubmissionsHandler submissions_;
  LifecycleHandler lifecycle_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<IntakeGrpc> grpc_;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<runtime::App>> StartIntake(const runtime::CommonSettings& settings,
                                                          config::Config& config,
                                                          metrics::Metrics& metrics) {
  // The shipped policy, in force until a file is named and loaded.
  auto shipped = ParsePolicy(DefaultPolicyYaml());
  if (!shipped.ok()) {
    return absl::InternalError("the built-in intake policy is invalid: " +
                               shipped.status().ToString());
  }
  FLYWHEEL_ASSIGN_OR_RETURN(auto kit,
                            runtime::ServiceKit::Connect(Declaration(), settings, config, metrics));
  auto app =
      std::make_unique<App>(std::move(kit), std::make_shared<const Policy>(*std::move(shipped)));
  FLYWHEEL_RETURN_IF_ERROR(app->Run());
  return app;
}

}  // namespace flywheel::intake
