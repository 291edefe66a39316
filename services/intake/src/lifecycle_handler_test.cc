#include "lifecycle_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/async/testing/await.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "flywheel/routing/v1/events.pb.h"
#include "in_memory_request_store.h"

namespace flywheel::intake {
namespace {

using async::testing::Await;

using ::testing::HasSubstr;

class LifecycleHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Request request;
    request.set_tenant_id("acme");
    request.set_request_id("req_1");
    request.set_idempotency_key("k-1");
    request.set_status(v1::REQUEST_STATUS_SUBMITTED);
    request.set_revision(1);
    std::vector<kafka::OutgoingEvent> none;
    ASSERT_TRUE(Await(store_.Create(request, "fp", none, absl::Hours(1))).ok());
  }

  static kafka::ConsumedEvent Event(const std::string& type,
                                    const google::protobuf::Message& payload) {
    kafka::ConsumedEvent consumed;
    consumed.event.id = "evt_in";
    consumed.event.type = type;
    consumed.event.data_content_type = kafka::kProtobufContentType;
    consumed.event.data = payload.SerializeAsString();
    return consumed;
  }

  static kafka::ConsumedEvent Routed(const std::string& request_id = "req_1") {
    routing::v1::RequestRouted routed;
    routed.set_tenant_id("acme");
    routed.set_request_id(request_id);
    routed.set_team_id("content");
    routed.set_owner_id("ana");
    routed.set_approval_tier(common::v1::APPROVAL_TIER_MULTI_REVIEWER);
    return Event(events::kRequestRouted, routed);
  }

  static kafka::ConsumedEvent Completed() {
    routing::v1::WorkflowCompleted completed;
    completed.set_tenant_id("acme");
    completed.set_request_id("req_1");
    return Event(events::kWorkflowCompleted, completed);
  }

  v1::Request Stored() {
    auto stored = Await(store_.Get("acme", "req_1"));
    EXPECT_TRUE(stored.ok() && stored->has_value());
    return **stored;
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  IntakeMetrics intake_metrics_{metrics_};
  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_{publisher_};
  InMemoryRequestStore store_{outbox_};
  LifecycleHandler handler_{store_, intake_metrics_, clock_};
};

TEST_F(LifecycleHandlerTest, RoutedRequestBecomesActiveWithTeamOwnerAndTier) {
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  const v1::Request request = Stored();
  EXPECT_EQ(request.status(), v1::REQUEST_STATUS_ACTIVE);
  EXPECT_EQ(request.team_id(), "content");
  EXPECT_EQ(request.owner_id(), "ana");
  EXPECT_EQ(request.approval_tier(), common::v1::APPROVAL_TIER_MULTI_REVIEWER);
  EXPECT_EQ(request.revision(), 2);
  EXPECT_EQ(request.route_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
}

TEST_F(LifecycleHandlerTest, RedeliveredEventChangesNothing) {
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  EXPECT_EQ(Stored().revision(), 2);
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_intake_lifecycle_events_total{result="unchanged",type="routed"} 1)"));
}

TEST_F(LifecycleHandlerTest, ReassignmentChangesTheOwner) {
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  routing::v1::TaskAssigned assigned;
  assigned.set_tenant_id("acme");
  assigned.set_request_id("req_1");
  assigned.mutable_task()->set_assignee_id("ben");
  ASSERT_TRUE(Await(handler_.Handle(Event(events::kTaskAssigned, assigned))).ok());
  EXPECT_EQ(Stored().owner_id(), "ben");
}

TEST_F(LifecycleHandlerTest, CompletedWorkflowCompletesTheRequest) {
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  clock_.Advance(absl::Hours(3));
  ASSERT_TRUE(Await(handler_.Handle(Completed())).ok());
  const v1::Request request = Stored();
  EXPECT_EQ(request.status(), v1::REQUEST_STATUS_COMPLETED);
  EXPECT_EQ(request.complete_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  // A late redelivery of the routing does not reopen it.
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  EXPECT_EQ(Stored().status(), v1::REQUEST_STATUS_COMPLETED);
}

TEST_F(LifecycleHandlerTest, CancelledRequestStaysCancelled) {
  v1::Request cancelled = Stored();
  cancelled.set_status(v1::REQUEST_STATUS_CANCELLED);
  cancelled.set_revision(2);
  std::vector<kafka::OutgoingEvent> none;
  ASSERT_TRUE(Await(store_.Replace(cancelled, 1, none)).ok());
  ASSERT_TRUE(Await(handler_.Handle(Routed())).ok());
  ASSERT_TRUE(Await(handler_.Handle(Completed())).ok());
  EXPECT_EQ(Stored().status(), v1::REQUEST_STATUS_CANCELLED);
}

TEST_F(LifecycleHandlerTest, UnknownRequestAndBadPayloadGoToTheDeadLetterTopic) {
  EXPECT_EQ(Await(handler_.Handle(Routed("req_unknown"))).code(),
            absl::StatusCode::kInvalidArgument);
  kafka::ConsumedEvent garbage = Routed();
  garbage.event.data = "\xff\xff not protobuf";
  absl::Status status = Await(handler_.Handle(garbage));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("flywheel.routing.v1.RequestRouted"));
}

TEST_F(LifecycleHandlerTest, StoreOutageIsRetried) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(Await(handler_.Handle(Routed())).code(), absl::StatusCode::kUnavailable);
}

TEST_F(LifecycleHandlerTest, OtherEventTypesAreSkipped) {
  routing::v1::StageAdvanced advanced;
  advanced.set_tenant_id("acme");
  advanced.set_request_id("req_1");
  ASSERT_TRUE(Await(handler_.Handle(Event(events::kStageAdvanced, advanced))).ok());
  EXPECT_EQ(Stored().revision(), 1);
}

}  // namespace
}  // namespace flywheel::intake
