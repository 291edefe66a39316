// A broker outage while intake takes work and routing moves it on. This test
// owns its broker (CTest runs it under a test bed of its own, see
// CMakeLists.txt) and freezes it with SIGSTOP, which is how a hung or
// partitioned broker looks to clients: requests go unanswered until they
// time out. Requests accepted and stages advanced meanwhile are answered, a
// client's retry gets the original answer, and once the broker is back each
// service's outbox relay publishes every event, under the id it was stored
// with.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "flywheel/routing/v1/routing_service.grpc.pb.h"
#include "flywheel/runtime/testing/integration_settings.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/runtime/testing/test_auth.h"
#include "intake_app.h"
#include "routing_app.h"

namespace flywheel {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::UnorderedElementsAre;

class OutageTest : public redis::RedisTestEnv {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    const char* pid = std::getenv("FLYWHEEL_TEST_KAFKA_PID");
    ASSERT_TRUE(pid != nullptr && *pid != '\0')
        << "FLYWHEEL_TEST_KAFKA_PID is not set: this test freezes its own broker and runs "
           "under a test bed of its own (see tests/integration/CMakeLists.txt)";
    broker_pid_ = std::atoi(pid);
    auto settings = runtime::testing::IntegrationSettings(options().endpoint.ToString(), prefix());
    ASSERT_TRUE(settings.ok()) << settings.status();
    settings_ = *settings;
    // Intake creates the requests topic that routing consumes.
    auto intake = intake::StartIntake(settings_, config_, metrics_);
    ASSERT_TRUE(intake.ok()) << intake.status();
    intake_ = *std::move(intake);
    auto routing = routing::StartRouting(settings_, routing_config_, routing_metrics_);
    ASSERT_TRUE(routing.ok()) << routing.status();
    routing_ = *std::move(routing);
    stub_ = intake::v1::IntakeService::NewStub(Channel(intake_->grpc_port()));
    routing_stub_ = routing::v1::RoutingService::NewStub(Channel(routing_->grpc_port()));
  }

  void TearDown() override {
    Thaw();
    if (routing_) routing_->Stop();
    if (intake_) intake_->Stop();
    RedisTestEnv::TearDown();
  }

  static std::shared_ptr<::grpc::Channel> Channel(int port) {
    return ::grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                 ::grpc::InsecureChannelCredentials());
  }

  void Freeze() {
    ASSERT_EQ(kill(broker_pid_, SIGSTOP), 0);
    frozen_ = true;
  }
  void Thaw() {
    if (frozen_) kill(broker_pid_, SIGCONT);
    frozen_ = false;
  }

  static intake::v1::SubmitRequestRequest Valid(const std::string& key) {
    intake::v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key(key);
    r.mutable_spec()->set_request_type_id("blog_post");
    r.mutable_spec()->set_title("Written during an outage");
    r.mutable_spec()->set_description("What the intake stage asks for before it is left");
    r.mutable_spec()->mutable_requester()->set_user_id("maria");
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
    (*r.mutable_spec()->mutable_fields())["target_audience"] = "IT buyers";
    return r;
  }

  ::grpc::Status Submit(const intake::v1::SubmitRequestRequest& request,
                        intake::v1::SubmitRequestResponse* response) {
    return stub_->SubmitRequest(auth_.CallAs().get(), request, response);
  }

  ::grpc::Status Advance(const routing::v1::AdvanceStageRequest& request,
                         routing::v1::AdvanceStageResponse* response) {
    return routing_stub_->AdvanceStage(auth_.CallAs().get(), request, response);
  }

  // The workflow of `request_id` once routing has assigned it.
  std::optional<routing::v1::WorkflowInstance> Routed(const std::string& request_id) {
    std::optional<routing::v1::WorkflowInstance> out;
    WaitFor([&] {
      routing::v1::GetWorkflowRequest get;
      get.set_tenant_id("acme");
      get.set_request_id(request_id);
      routing::v1::GetWorkflowResponse got;
      if (!routing_stub_->GetWorkflow(auth_.CallAs().get(), get, &got).ok() ||
          got.workflow().owner_id().empty()) {
        return false;
      }
      out = got.workflow();
      return true;
    });
    return out;
  }

  // The ce_id of every record on `topic`.
  std::vector<std::string> PublishedIds(const char* topic) {
    std::vector<std::string> ids;
    for (const kafka::Record& record :
         kafka::testing::ReadAll(settings_.kafka_bootstrap_servers, settings_.Topic(topic))) {
      ids.emplace_back(record.header("ce_id").value_or(""));
    }
    return ids;
  }

  // Events waiting in `service`'s outbox.
  size_t Outboxed(const std::string& service = "intake") {
    auto left = admin().Command({"ZCARD", prefix() + service + ":outbox:{acme}:queue"});
    return left.ok() ? static_cast<size_t>(left->integer()) : 0;
  }

  pid_t broker_pid_ = 0;
  bool frozen_ = false;
  runtime::CommonSettings settings_;
  // Deliveries give up after 2 s (so a call waits at most that), and the
  // relay looks every 200 ms for what is older than that plus its margin.
  runtime::testing::TestAuth auth_;
  config::Config config_ = *config::Config::FromString(
      auth_.WithAuth(
          "kafka:\n  producer:\n    message.timeout.ms: 2000\noutbox:\n  relay_interval: 200ms\n"),
      "test", {});
  config::Config routing_config_ = *config::Config::FromString(
      auth_.WithAuth(
          "kafka:\n  producer:\n    message.timeout.ms: 2000\noutbox:\n  relay_interval: 200ms\n"),
      "test", {});
  metrics::Metrics metrics_;
  metrics::Metrics routing_metrics_;
  std::unique_ptr<runtime::App> intake_;
  std::unique_ptr<routing::RoutingApp> routing_;
  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
  std::unique_ptr<routing::v1::RoutingService::Stub> routing_stub_;
};

TEST_F(OutageTest, WorkDoneWhileTheBrokerIsDownIsAnnouncedUnderItsOwnIdsWhenItIsBack) {
  intake::v1::SubmitRequestResponse before;
  ASSERT_TRUE(Submit(Valid("before"), &before).ok());
  const std::optional<routing::v1::WorkflowInstance> routed = Routed(before.request_id());
  ASSERT_TRUE(routed.has_value()) << "the request made before the outage was not routed";
  ASSERT_EQ(routed->current_stage_id(), "intake");

  Freeze();
  // Stored, so accepted: the event waits in intake's outbox.
  const intake::v1::SubmitRequestRequest request = Valid("during");
  intake::v1::SubmitRequestResponse during;
  ::grpc::Status status = Submit(request, &during);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(during.replayed());
  // The client did not trust the answer and retries: the same request.
  intake::v1::SubmitRequestResponse retried;
  status = Submit(request, &retried);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(retried.replayed());
  EXPECT_EQ(retried.request_id(), during.request_id());
  EXPECT_EQ(Outboxed("intake"), 1u);

  // The owner finishes the intake stage: stored, so answered; its events
  // (stage.advanced, the timer's CANCEL and START, task.assigned) wait in
  // routing's outbox.
  routing::v1::AdvanceStageRequest advance;
  advance.set_tenant_id("acme");
  advance.set_request_id(before.request_id());
  advance.set_expected_stage_id("intake");
  advance.set_actor_id(routed->owner_id());
  routing::v1::AdvanceStageResponse advanced;
  status = Advance(advance, &advanced);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(advanced.workflow().current_stage_id(), "brief");
  EXPECT_EQ(Outboxed("routing"), 4u);
  // Its client retries too, and gets the same answer rather than "the stage
  // moved on".
  routing::v1::AdvanceStageResponse advanced_again;
  status = Advance(advance, &advanced_again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(advanced_again.workflow(),
                                                                 advanced.workflow()))
      << advanced_again.workflow().ShortDebugString();
  EXPECT_EQ(Outboxed("routing"), 4u) << "the retry stored nothing more";
  Thaw();

  // Each relay publishes its service's events once the broker answers.
  ASSERT_TRUE(WaitFor([&] { return Outboxed("intake") == 0 && Outboxed("routing") == 0; },
                      absl::Seconds(60)))
      << "the outboxes still hold " << Outboxed("intake") << " and " << Outboxed("routing")
      << " events";
  EXPECT_TRUE(WaitFor([&] {
    return metrics_.Render().find("flywheel_outbox_relayed_events_total 1\n") != std::string::npos;
  })) << "intake's relay did not publish its event";
  EXPECT_TRUE(WaitFor([&] {
    return routing_metrics_.Render().find("flywheel_outbox_relayed_events_total 4\n") !=
           std::string::npos;
  })) << "routing's relay did not publish its events";
  // Every event is there, under the id it was stored with. A record the
  // frozen broker had already taken into its socket may also land when it
  // thaws, after the client gave up on it: at least once means that copy
  // carries the same id, so consumers drop it.
  const std::vector<std::string> ids = PublishedIds(events::kRequestsTopic);
  const std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_THAT(unique, UnorderedElementsAre("evt_submitted_" + before.request_id(),
                                           "evt_submitted_" + during.request_id()));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "evt_submitted_" + before.request_id()), 1);
  const std::string advance_id =
      before.request_id() + "/advance/" + std::to_string(routed->revision());
  // Routing's events were made during the outage, so the same holds: the
  // relay's copy, and at most one late copy of the first try, both under
  // the id they were stored with.
  const std::vector<std::string> workflow_ids = PublishedIds(events::kWorkflowsTopic);
  for (const std::string& id : {advance_id, advance_id + "/assigned"}) {
    const auto copies = std::count(workflow_ids.begin(), workflow_ids.end(), id);
    EXPECT_GE(copies, 1) << id << " was not published";
    EXPECT_LE(copies, 2) << id << " was published more than the relay and the thaw explain";
  }
  // And the request accepted during the outage is routed once it is out.
  EXPECT_TRUE(Routed(during.request_id()).has_value());
}

}  // namespace
}  // namespace flywheel
