#include "reporting_app.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/awaited_handlers.h"
#include "flywheel/runtime/service_kit.h"
#include "redis_report_store.h"
#include "reporting.h"
#include "reporting_grpc.h"
#include "reporting_metrics.h"

namespace flywheel::reporting {
namespace {

// Consumers by the owner of what they read, so one slow stream holds no
// other. A new group reads its topics from the start (the kit's default),
// so a new installation counts the history the topics keep.
runtime::ServiceDeclaration Declaration(int64_t generation) {
  const std::string suffix = generation == 0 ? "" : absl::StrCat("-g", generation);
  runtime::ServiceDeclaration declaration = {
      .name = "reporting",
      .owned_topics = {{.name = events::kCampaignSpendTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kRevenueTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kReportingDeadLetterTopic, .partitions = 1}},
      .dead_letter_topic = events::kReportingDeadLetterTopic,
      .consumers =
          {{.name = "requests", .topics = {events::kRequestsTopic, events::kSubmissionsTopic}},
           {.name = "workflows", .topics = {events::kWorkflowsTopic}},
           {.name = "approvals", .topics = {events::kApprovalsTopic}},
           {.name = "schedule",
            .topics = {events::kSlaTopic, events::kPublishingTopic, events::kPublishResultsTopic}},
           {.name = "leads", .topics = {events::kLeadActivityTopic, events::kLeadScoresTopic}},
           {.name = "money", .topics = {events::kCampaignSpendTopic, events::kRevenueTopic}}},
  };
  for (runtime::ConsumerDeclaration& consumer : declaration.consumers) {
    consumer.group = absl::StrCat("flywheel-reporting-", consumer.name, suffix);
  }
  return declaration;
}

// Reporting's domain objects on the kit's parts.
class App final : public runtime::App {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, int64_t generation, const Clock& clock)
      : kit_(std::move(kit)),
        store_(kit_->redis_async(),
               absl::StrCat(kit_->settings().redis_key_prefix,
                            generation == 0 ? "" : absl::StrCat("g", generation, "-"))),
        metrics_(kit_->metrics()),
        reporting_(store_, metrics_, clock) {
    for (const runtime::ConsumerDeclaration& consumer : Declaration(generation).consumers) {
      for (const std::string& topic : consumer.topics) metrics_.ExpectTopic(kit_->Topic(topic));
    }
  }

  ~App() override { Stop(); }

  absl::Status Run() {
    for (const char* consumer :
         {"requests", "workflows", "approvals", "schedule", "leads", "money"}) {
      // A batch's requests (and leads) at once, each one's events in order:
      // every merge commutes, and one request's are ordered by its key.
      FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
          consumer, kafka::AwaitEachByKey(kit_->io(), [this](const kafka::ConsumedEvent& event) {
            return reporting_.Handle(event);
          })));
    }
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(ReportingRoles()));
    grpc_ = std::make_unique<ReportingGrpc>(reporting_, *guard_, kit_->io());
    return kit_->Serve({grpc_.get()});
  }

  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override { kit_->Stop(); }

 private:
  std::unique_ptr<runtime::ServiceKit> kit_;
  RedisReportStore store_;
  ReportingMetrics metrics_;
  Reporting reporting_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<ReportingGrpc> grpc_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::App>> StartReportingOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock) {
  // Read before the kit connects, as it names the consumer groups.
  const int64_t generation =
      config.Get<int64_t>(kGenerationKey, 0, config::InRange(int64_t{0}, int64_t{1'000'000}));
  FLYWHEEL_ASSIGN_OR_RETURN(
      auto kit, runtime::ServiceKit::Connect(Declaration(generation), settings, config, metrics));
  auto app = std::make_unique<App>(std::move(kit), generation, clock);
  FLYWHEEL_RETURN_IF_ERROR(app->Run());
  return app;
}

absl::StatusOr<std::unique_ptr<runtime::App>> StartReporting(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics) {
  return StartReportingOn(settings, config, metrics, SystemClock::Instance());
}

}  // namespace flywheel::reporting
