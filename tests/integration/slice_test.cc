// The slice through real Kafka and Redis: a request submitted to intake over
// gRPC is published as request.submitted, consumed by routing, and stored as
// a workflow with its team, owner and approval tier in Redis. Both services run in this process,
// wired exactly as their main() wires them, on their own topic and key prefix.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/status.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "intake_app.h"
#include "redis_workflow_store.h"
#include "routing_app.h"

namespace flywheel {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Intake is the service under test; routing starts before it and stops
// after it.
class SliceTest : public runtime::testing::ServiceFixture {
 protected:
  SliceTest() : ServiceFixture(intake::StartIntake) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = intake::v1::IntakeService::NewStub(channel());

    auto pool = redis::Pool::Create({.connection = options(), .capacity = 1});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    // Only read here: the outbox is never written through.
    outbox_ = std::make_unique<outbox::RedisOutbox>(*pool_, unused_publisher_,
                                                    outbox::RedisOutboxOptions{}, store_metrics_);
    store_ = std::make_unique<routing::RedisWorkflowStore>(*pool_, prefix(), *outbox_);
  }

  intake::v1::SubmitRequestRequest ValidRequest() {
    intake::v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key(NewRandomId());
    r.mutable_spec()->set_request_type_id("campaign_launch");
    r.mutable_spec()->set_title("Autumn campaign launch");
    r.mutable_spec()->mutable_requester()->set_user_id("maria");
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
    return r;
  }

  ::grpc::Status Submit(const intake::v1::SubmitRequestRequest& request,
                        intake::v1::SubmitRequestResponse* response) {
    return stub_->SubmitRequest(auth().CallAs().get(), request, response);
  }

  metrics::Metrics& routing_metrics_ = StartAlongside(routing::StartRouting);
  std::unique_ptr<intake::v1::IntakeService::Stub> stub_;
  std::unique_ptr<redis::Pool> pool_;
  kafka::testing::RecordingPublisher unused_publisher_;
  metrics::Metrics store_metrics_;
  std::unique_ptr<outbox::RedisOutbox> outbox_;
  std::unique_ptr<routing::RedisWorkflowStore> store_;
};

TEST_F(SliceTest, SubmittedRequestIsRoutedAndRecordedInRedis) {
  intake::v1::SubmitRequestResponse response;
  ::grpc::Status status = Submit(ValidRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(response.request_id().empty());
  EXPECT_EQ(response.priority(), common::v1::PRIORITY_P2);

  // Routed by the shipped default policy: campaign launches go to the
  // content team, least loaded first (ties by id), default approval tier.
  std::optional<routing::StoredWorkflow> routed;
  ASSERT_TRUE(WaitFor([&] {
    auto found = store_->Find("acme", response.request_id());
    if (found.ok() && found->has_value()) routed = **found;
    return routed.has_value();
  })) << "request "
      << response.request_id() << " was never routed";
  EXPECT_EQ(routed->workflow.tenant_id(), "acme");
  EXPECT_EQ(routed->workflow.template_id(), "campaign");
  EXPECT_EQ(routed->workflow.team_id(), "content");
  EXPECT_EQ(routed->workflow.owner_id(), "ana");
  EXPECT_EQ(routed->workflow.approval_tier(), common::v1::APPROVAL_TIER_SINGLE_REVIEWER);
  EXPECT_EQ(routed->workflow.priority(), common::v1::PRIORITY_P2);
  EXPECT_EQ(routed->request.spec().title(), "Autumn campaign launch");
  EXPECT_EQ(routed->assignment_rule_id, "campaigns-by-region");
  EXPECT_THAT(routed->event_id, ::testing::StartsWith("evt_"));

  // The processing SLI was observed for the handler that routed it.
  EXPECT_TRUE(WaitFor([&] {
    return routing_metrics_.Render().find(
               R"(flywheel_kafka_event_age_seconds_count{handler="routing.requests"} 1)") !=
           std::string::npos;
  }));
  EXPECT_THAT(
      metrics().Render(),
      HasSubstr(
          R"(flywheel_intake_grpc_requests_total{code="OK",method="/flywheel.intake.v1.IntakeService/SubmitRequest"} 1)"));
}

TEST_F(SliceTest, RoutedRequestShowsAsActiveWithItsTeamAndOwnerInIntake) {
  intake::v1::SubmitRequestResponse response;
  ::grpc::Status status = Submit(ValidRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Intake follows routing's request.routed: the request it serves moves
  // from SUBMITTED to ACTIVE, and listing ACTIVE requests finds it.
  intake::v1::Request seen;
  ASSERT_TRUE(WaitFor([&] {
    intake::v1::GetRequestRequest get;
    get.set_tenant_id("acme");
    get.set_request_id(response.request_id());
    intake::v1::GetRequestResponse got;
    if (!stub_->GetRequest(auth().Call(auth().Token(), absl::Seconds(10)).get(), get, &got).ok()) {
      return false;
    }
    seen = got.request();
    return seen.status() == intake::v1::REQUEST_STATUS_ACTIVE;
  })) << "still "
      << intake::v1::RequestStatus_Name(seen.status());
  EXPECT_EQ(seen.team_id(), "content");
  EXPECT_EQ(seen.owner_id(), "ana");
  EXPECT_EQ(seen.approval_tier(), common::v1::APPROVAL_TIER_SINGLE_REVIEWER);
  EXPECT_TRUE(seen.has_route_time());

  intake::v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  list.add_statuses(intake::v1::REQUEST_STATUS_ACTIVE);
  intake::v1::ListRequestsResponse listed;
  ASSERT_TRUE(
      stub_->ListRequests(auth().Call(auth().Token(), absl::Seconds(10)).get(), list, &listed)
          .ok());
  ASSERT_EQ(listed.requests_size(), 1);
  EXPECT_EQ(listed.requests(0).request_id(), response.request_id());
}

TEST_F(SliceTest, BadRequestIsRefusedWithEveryFailingField) {
  intake::v1::SubmitRequestRequest request = ValidRequest();
  request.clear_tenant_id();
  request.mutable_spec()->set_request_type_id("radio_ad");
  request.mutable_spec()->clear_title();
  intake::v1::SubmitRequestResponse response;
  ::grpc::Status status = Submit(request, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : rpc::BadRequestFields(status)) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAre("tenant_id", "spec.request_type_id", "spec.title"));
}

TEST_F(SliceTest, UndecodablePayloadGoesToRoutingsDeadLetterTopic) {
  ASSERT_NO_FATAL_FAILURE(
      Publish(events::kRequestsTopic, {.id = "evt_garbage",
                                       .source = "//tests",
                                       .type = events::kRequestSubmitted,
                                       .data_content_type = kafka::kProtobufContentType,
                                       .key = "req_garbage",
                                       .data = "\xff\xff not protobuf"}));

  std::vector<kafka::Record> dead = kafka::testing::ReadTopic(
      settings().kafka_bootstrap_servers, settings().Topic(events::kRoutingDeadLetterTopic), 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].header("ce_id"), "evt_garbage");
  EXPECT_THAT(std::string(dead[0].header(kafka::kDeadLetterReasonHeader).value_or("")),
              HasSubstr("not a flywheel.intake.v1.RequestSubmitted"));
  auto found = store_->Find("acme", "req_garbage");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

}  // namespace
}  // namespace flywheel
