// A broker outage while intake takes work. This test owns its broker (CTest
// runs it under a test bed of its own, see CMakeLists.txt) and freezes it
// with SIGSTOP, which is how a hung or partitioned broker looks to clients:
// requests go unanswered until they time out. Requests accepted meanwhile
// are answered, a client's retry gets the original answer, and once the
// broker is back the outbox relay publishes every event, under the id it was
// stored with.
#include <gmock/gmock.h>
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
#include "flywheel/runtime/testing/integration_settings.h"
#include "intake_app.h"

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
    auto intake = intake::StartIntake(settings_, config_, metrics_);
    ASSERT_TRUE(intake.ok()) << intake.status();
    intake_ = *std::move(intake);
    stub_ = intake::v1::IntakeService::NewStub(::grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(intake_->grpc_port()), ::grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    Thaw();
    if (intake_) intake_->Stop();
    RedisTestEnv::TearDown();
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
    r.mutable_spec()->mutable_requester()->set_user_id("maria");
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
    (*r.mutable_spec()->mutable_fields())["target_audience"] = "IT buyers";
    return r;
  }

  ::grpc::Status Submit(const intake::v1::SubmitRequestRequest& request,
                        intake::v1::SubmitRequestResponse* response) {
    ::grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->SubmitRequest(&context, request, response);
  }

  // The ce_id of every record on the requests topic.
  std::vector<std::string> PublishedIds() {
    std::vector<std::string> ids;
    for (const kafka::Record& record : kafka::testing::ReadAll(
             settings_.kafka_bootstrap_servers, settings_.Topic(events::kRequestsTopic))) {
      ids.emplace_back(record.header("ce_id").value_or(""));
    }
    return ids;
  }

  size_t Outboxed() {
    auto left = admin().Command({"ZCARD", prefix() + "outbox:{acme}:queue"});
    return left.ok() ? static_cast<size_t>(left->integer()) : 0;
  }

  pid_t broker_pid_ = 0;
  bool frozen_ = false;
  runtime::CommonSettings settings_;
  // Deliveries give up after 2 s (so a call waits at most that), and the
  // relay looks every 200 ms for what is older than that plus its margin.
  config::Config config_ = *config::Config::FromString(
      "kafka:\n  producer:\n    message.timeout.ms: 2000\noutbox:\n  relay_interval: 200ms\n",
      "test", {});
  metrics::Metrics metrics_;
  std::unique_ptr<runtime::App> intake_;
  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
};

TEST_F(OutageTest, RequestsAcceptedWhileTheBrokerIsDownAreAnnouncedOnceWhenItIsBack) {
  intake::v1::SubmitRequestResponse before;
  ASSERT_TRUE(Submit(Valid("before"), &before).ok());

  Freeze();
  // Stored, so accepted: the event waits in the outbox.
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
  EXPECT_EQ(Outboxed(), 1u);
  Thaw();

  // The relay publishes it once the broker answers, and the outbox empties.
  ASSERT_TRUE(WaitFor([&] { return Outboxed() == 0; }, absl::Seconds(60)))
      << "the outbox still holds " << Outboxed() << " events";
  EXPECT_TRUE(WaitFor([&] {
    return metrics_.Render().find("flywheel_outbox_relayed_events_total 1\n") != std::string::npos;
  })) << "the relay did not publish it";
  // Every event is there, under the id it was stored with. A record the
  // frozen broker had already taken into its socket may also land when it
  // thaws, after the client gave up on it: at least once means that copy
  // carries the same id, so consumers drop it.
  const std::vector<std::string> ids = PublishedIds();
  const std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_THAT(unique, UnorderedElementsAre("evt_submitted_" + before.request_id(),
                                           "evt_submitted_" + during.request_id()));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "evt_submitted_" + before.request_id()), 1);
}

}  // namespace
}  // namespace flywheel
