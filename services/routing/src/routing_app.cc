#include "routing_app.h"

#include "approval_tracker.h"
#include "assigner.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/runtime/service_kit.h"
#include "policy_parser.h"
#include "redis_workflow_store.h"
#include "router.h"
#include "routing_grpc.h"
#include "workflow_ops.h"

namespace flywheel::routing {
namespace {

runtime::ServiceDeclaration Declaration() {
  return {
      .name = "routing",
      .owned_topics = {{.name = events::kWorkflowsTopic, .partitions = events::kStreamPartitions},
                       {.name = events::kTimerRequestsTopic,
                        .partitions = events::kStreamPartitions},
                       {.name = events::kCapacityTopic, .partitions = 3},
                       {.name = events::kRoutingDeadLetterTopic, .partitions = 1}},
      .dead_letter_topic = events::kRoutingDeadLetterTopic,
      // Intake owns the requests topic; routing may start first, so it
      // looks for it often.
      .consumers = {{.name = "requests",
                     .topics = {events::kRequestsTopic},
                     .group = "flywheel-routing",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}},
                    // Approval owns its topic and may start later, too. A
                    // group of its own: the kit gives every consumer of the
                    // process one static member id, so two consumers in one
                    // group would fence each other.
                    {.name = "approvals",
                     .topics = {events::kApprovalsTopic},
                     .group = "flywheel-routing-approvals",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}},
                    // publish.done moves the workflow past launch; the
                    // scheduler owns the topic.
                    {.name = "publish_results",
                     .topics = {events::kPublishResultsTopic},
                     .group = "flywheel-routing-publish-results",
                     .properties = {{"topic.metadata.refresh.interval.ms", "2000"}}}},
      .policy_file_key = "routing.policy_file",
  };
}

// Routing's domain objects on the kit's parts.
class App final : public RoutingApp {
 public:
  App(std::unique_ptr<runtime::ServiceKit> kit, std::shared_ptr<const Policy> shipped)
      : kit_(std::move(kit)),
        store_(kit_->redis(), kit_->settings().redis_key_prefix, kit_->outbox()),
        routing_metrics_(kit_->metrics()),
        policy_(std::move(shipped)),
        assigner_(store_, kit_->publisher(), kit_->outbox(), routing_metrics_,
                  {.workflows = kit_->Topic(events::kWorkflowsTopic),
                   .timer_requests = kit_->Topic(events::kTimerRequestsTopic),
                   .capacity = kit_->Topic(events::kCapacityTopic)}),
        router_(policy_, assigner_, SystemClock::Instance()),
        approvals_(policy_, assigner_, SystemClock::Instance()),
        ops_(policy_, assigner_, SystemClock::Instance()) {}

  ~App() override { Stop(); }

  absl::Status Run() {
    FLYWHEEL_RETURN_IF_ERROR(
        kit_->WatchPolicy([this](const std::string& path) { return Load(path); }));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "requests", kafka::BatchHandler([this](kafka::EventBatch batch, kafka::BatchDone done) {
          router_.HandleBatch(std::move(batch), std::move(done));
        })));
    FLYWHEEL_RETURN_IF_ERROR(
        kit_->Consume("approvals", kafka::PerEvent([this](const kafka::ConsumedEvent& consumed) {
                        return approvals_.Handle(consumed);
                      })));
    FLYWHEEL_RETURN_IF_ERROR(kit_->Consume(
        "publish_results", kafka::PerEvent([this](const kafka::ConsumedEvent& consumed) {
          return approvals_.Handle(consumed);
        })));
    FLYWHEEL_ASSIGN_OR_RETURN(guard_, kit_->Guard(RoutingRoles()));
    grpc_ = std::make_unique<RoutingGrpc>(ops_, *guard_);
    return kit_->Serve({grpc_.get()});
  }

  absl::Status ReloadPolicyNow() override { return kit_->ReloadPolicyNow(); }
  int grpc_port() const override { return kit_->grpc_port(); }
  void Stop() override { kit_->Stop(); }

 private:
  // Runs on the reloader's thread (and the caller's for the first load).
  absl::Status Load(const std::string& path) {
    FLYWHEEL_ASSIGN_OR_RETURN(Policy policy, LoadPolicyFile(path));
    policy_.Set(std::make_shared<const Policy>(std::move(policy)));
    assigner_.AssignQueuedAfterReload(*policy_.Get());  // e.g. a raised WIP limit
    return absl::OkStatus();
  }

  std::unique_ptr<runtime::ServiceKit> kit_;
  RedisWorkflowStore store_;
  RoutingMetrics routing_metrics_;
  PolicyHolder policy_;
  Assigner assigner_;
  Router router_;
  ApprovalTracker approvals_;
  WorkflowOps ops_;
  std::unique_ptr<rpc::Guard> guard_;
  std::unique_ptr<RoutingGrpc> grpc_;
};

}  // namespace

absl::Status ValidatePolicyFile(const std::string& path) { return LoadPolicyFile(path).status(); }

absl::StatusOr<std::unique_ptr<RoutingApp>> StartRouting(const runtime::CommonSettings& settings,
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

}  // namespace flywheel::routing
