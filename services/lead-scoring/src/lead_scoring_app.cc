#include "lead_scoring_app.h"

#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/awaited_handlers.h"
#include "flywheel/runtime/service_kit.h"
#include "incoming_events.h"
#include "lead_scoring.h"
#include "lead_scoring_grpc.h"
#include "lead_scoring_metrics.h"
#include "policy_parser.h"
#include "redis_lead_store.h"

namespace flywheel::lead_scoring {
namespace {

runtime::ServiceDeclaration Declaration() {
  // Lead scoring owns its input topics too: the systems that write them
  // (web analytics, email, CRM) are not Flywheel services.
  return {
      .name = "lead-scoring",
      .owned_topics = {{.name = events::kLeadActivityTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kLeadProfilesTopic,
                        .partitions = events::kStreamPartitions,
                        .configs = {{"cleanup.policy", "compact"}}},
                       {.name = events::kLeadScoresTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kLeadScoringDeadLetterTopic, .partitions = 1}},
      .dead_letter_topic = events::kLeadScoringDeadLetterTopic,
      .consumers = {{.name = "activity",
                     .topics = {events::kLeadActivityTopic},
                     .group = "flywheel-lead-scoring"},
                    {.name = "profiles",
                     .topics = {events::kLeadProfilesTopic},
                     .group = "flywheel-lead-scoring-profiles"}},
      .policy_file_key = kPolicyFileKey,
  };
}

// Lead scoring's own config keys.
absl::Status ReadOwn(config::Config& config, LeadScoringOptions& options) {
  options.max_future_skew =
      config.Get<absl::Duration>("lead_scoring.max_future_skew", options.max_future_skew,
                                 config::InRange(absl::ZeroDuration(), absl::Hours(24)));
  options.max_event_bytes = static_cast<size_t>(config.Get<int64_t>(
      "lead_scoring.max_event_bytes", static_cast<int64_t>(options.max_event_bytes),
      config::InRange(int64_t{1024}, int64_t{32} << 20)));
  return absl::OkStatus();
}

// Lead scoring's domain objects on the kit's parts.
class App final : public runtime::App {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, std::shared_ptr<const Policy> shipped,
      LeadScoringOptions options, const Clock& clock)
      : kit_(std::move(kit)),
        policy_(std::move(shipped)),
        store_(kit_->redis_async(), kit_->outbox(),
               {.key_prefix = kit_->settings().redis_key_prefix}),
        metrics_(kit_->metrics()),
        scoring_(policy_, store_, metrics_, clock, WithTopic(options)),
        incoming_(scoring_, options.max_event_bytes) {}

  ~App() override { Stop(); }

  absl::Status Run() {
    FLYWHEEL_RETURN_IF_ERROR(kit_->WatchPolicy(policy_, &LoadPolicyFile));
    for (const char* consumer : {"activity", "profiles"}) {
      FLYWHEEL_RETURN_IF_ERROR(
          kit_->Consume(consumer, kafka::AwaitBatches(kit_->io(), [this](kafka::EventBatch batch) {
                          return incoming_.Batch(std::move(batch));
                        })));
    }
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(LeadScoringRoles()));
    grpc_ = std::make_unique<LeadScoringGrpc>(scoring_, *guard_, kit_->io());
    return kit_->Serve({grpc_.get()});
  }

  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override { kit_->Stop(); }

 private:
  LeadScoringOptions WithTopic(LeadScoringOptions options) const {
    options.scores_topic = kit_->Topic(events::kLeadScoresTopic);
    return options;
  }

  std::unique_ptr<runtime::ServiceKit> kit_;
  PolicyHolder policy_;
  RedisLeadStore store_;
  LeadScoringMetrics metrics_;
  LeadScoring scoring_;
  IncomingEvents incoming_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<LeadScoringGrpc> grpc_;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<runtime::App>> StartLeadScoringOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock) {
  // The built-in policy is parsed first, so a broken default fails loudly.
  FLYWHEEL_ASSIGN_OR_RETURN(Policy shipped, ParsePolicy(DefaultPolicyYaml()));
  LeadScoringOptions options;
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto kit,
      runtime::ServiceKit::Connect(Declaration(), settings, config, metrics,
                                   [&options](config::Config& c) { return ReadOwn(c, options); }));
  auto app = std::make_unique<App>(
      std::move(kit), std::make_shared<const Policy>(std::move(shipped)), options, clock);
  FLYWHEEL_RETURN_IF_ERROR(app->Run());
  return app;
}

absl::StatusOr<std::unique_ptr<runtime::App>> StartLeadScoring(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics) {
  return StartLeadScoringOn(settings, config, metrics, SystemClock::Instance());
}

}  // namespace flywheel::lead_scoring
