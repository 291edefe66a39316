#include "approval_app.h"

#include "approval_grpc.h"
#include "approvals.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/awaited_handlers.h"
#include "flywheel/log/log.h"
#include "flywheel/runtime/periodic.h"
#include "flywheel/runtime/service_kit.h"
#include "incoming_events.h"
#include "policy_parser.h"
#include "redis_approval_store.h"

namespace flywheel::approval {
namespace {

// How often every approver's inbox size is read for the metrics.
constexpr absl::Duration kInboxMetricsInterval = absl::Seconds(30);

runtime::ServiceDeclaration Declaration() {
  return {
      .name = "approval",
      // The timer-requests topic is the scheduler's; routing and approval,
      // who write to it, create it until the scheduler exists to.
      .owned_topics = {{.name = events::kApprovalsTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kTimerRequestsTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kApprovalDeadLetterTopic, .partitions = 1}},
      .dead_letter_topic = events::kApprovalDeadLetterTopic,
      // Routing owns the workflows topic and the scheduler the SLA topic;
      // either may start later, so approval looks for them often.
      .consumers = {{.name = "workflows",
                     .topics = {events::kWorkflowsTopic},
                     .group = "flywheel-approval",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}},
                    {.name = "sla",
                     .topics = {events::kSlaTopic},
                     .group = "flywheel-approval-sla",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}}},
      .policy_file_key = kPolicyFileKey,
  };
}

// Approval's domain objects on the kit's parts.
class App final : public runtime::App {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, std::shared_ptr<const Policy> shipped)
      : kit_(std::move(kit)),
        policy_(std::move(shipped)),
        store_(kit_->redis_async(), kit_->settings().redis_key_prefix, kit_->outbox()),
        approval_metrics_(kit_->metrics()),
        approvals_({.approvals = kit_->Topic(events::kApprovalsTopic),
                    .timer_requests = kit_->Topic(events::kTimerRequestsTopic)},
                   policy_, store_, kit_->outbox(), approval_metrics_, SystemClock::Instance()),
        incoming_(approvals_, approval_metrics_) {}

  ~App() override { Stop(); }

  absl::Status Run() {
    FLYWHEEL_RETURN_IF_ERROR(kit_->WatchPolicy(policy_, &LoadPolicyFile));
    for (const char* consumer : {"workflows", "sla"}) {
      FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
          consumer, kafka::AwaitEach(kit_->io(), [this](const kafka::ConsumedEvent& c) {
            return incoming_.Handle(c);
          })));
    }
    inbox_metrics_ =
        runtime::Periodic::Start("approval-inbox-metrics", kInboxMetricsInterval, [this] {
          absl::Status refreshed = async::BlockOn(kit_->io(), approvals_.RefreshInboxMetrics());
          if (!refreshed.ok()) {
            log::Warn("inbox metrics not refreshed", {{"error", refreshed.ToString()}});
          }
        });
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(ApprovalRoles()));
    grpc_ = std::make_unique<ApprovalGrpc>(approvals_, *guard_, kit_->io());
    return kit_->Serve({grpc_.get()});
  }

  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override {
    if (inbox_metrics_) inbox_metrics_->Stop();
    kit_->Stop();
  }

 private:
  std::unique_ptr<runtime::ServiceKit> kit_;
  PolicyHolder policy_;
  RedisApprovalStore store_;
  ApprovalMetrics approval_metrics_;
  Approvals approvals_;
  IncomingEvents incoming_;
  std::unique_ptr<runtime::Periodic> inbox_metrics_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<ApprovalGrpc> grpc_;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<runtime::App>> StartApproval(const runtime::CommonSettings& settings,
                                                            config::Config& config,
                                                            metrics::Metrics& metrics) {
  // The built-in policy is parsed first, so a broken default fails loudly.
  FLYWHEEL_ASSIGN_OR_RETURN(Policy shipped, ParsePolicy(DefaultPolicyYaml()));
  FLYWHEEL_ASSIGN_OR_RETURN(auto kit,
                            runtime::ServiceKit::Connect(Declaration(), settings, config, metrics));
  auto app =
      std::make_unique<App>(std::move(kit), std::make_shared<const Policy>(std::move(shipped)));
  FLYWHEEL_RETURN_IF_ERROR(app->Run());
  return app;
}

}  // namespace flywheel::approval
