#include "submissions_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/async/testing/await.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "in_memory_request_store.h"
#include "policy_parser.h"
#include "request_validation.h"

namespace flywheel::intake {
namespace {

using async::testing::Await;

using ::testing::HasSubstr;

class SubmissionsHandlerTest : public ::testing::Test {
 protected:
  kafka::ConsumedEvent Event(const v1::RequestSubmissionReceived& submission) {
    kafka::ConsumedEvent consumed;
    consumed.event.id = "evt_in_1";
    consumed.event.source = "//crm";
    consumed.event.type = events::kRequestSubmissionReceived;
    consumed.event.data_content_type = "application/protobuf";
    consumed.event.key = submission.idempotency_key();
    consumed.event.data = submission.SerializeAsString();
    return consumed;
  }

  v1::RequestSubmissionReceived Valid() {
    v1::RequestSubmissionReceived s;
    s.set_tenant_id("acme");
    s.set_idempotency_key("crm-42");
    s.set_origin("crm");
    s.mutable_spec()->set_request_type_id("landing_page");
    s.mutable_spec()->set_title("Webinar sign-up page");
    s.mutable_spec()->mutable_requester()->set_user_id("crm");
    return s;
  }

  // The one RequestRejected published, decoded.
  v1::RequestRejected OnlyRejection() {
    EXPECT_EQ(publisher_.size(), 1u);
    v1::RequestRejected rejected;
    if ((publisher_.size() == 0)) return rejected;
    EXPECT_EQ(publisher_.published()[0].type, events::kRequestRejected);
    EXPECT_EQ(publisher_.published()[0].topic, "p.requests");
    EXPECT_TRUE(rejected.ParseFromString(publisher_.published()[0].data));
    return rejected;
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  IntakeMetrics intake_metrics_{metrics_};
  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_{publisher_};
  InMemoryRequestStore store_{outbox_};
  LivePolicy policy_{std::make_shared<const Policy>(*ParsePolicy(DefaultPolicyYaml()))};
  Intake intake_{
      {.requests_topic = "p.requests"}, policy_, store_, outbox_, intake_metrics_, clock_};
  SubmissionsHandler handler_{intake_, publisher_, "p.requests", intake_metrics_};
};

TEST_F(SubmissionsHandlerTest, ValidSubmissionIsAcceptedLikeTheRpc) {
  ASSERT_TRUE(Await(handler_.Handle(Event(Valid()))).ok());
  ASSERT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(publisher_.published()[0].type, events::kRequestSubmitted);
  EXPECT_EQ(store_.size(), 1u);
  // Redelivery of the same event: idempotent, nothing new.
  ASSERT_TRUE(Await(handler_.Handle(Event(Valid()))).ok());
  EXPECT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(SubmissionsHandlerTest, StructuredJsonSubmissionIsAccepted) {
  kafka::ConsumedEvent consumed = Event(Valid());
  consumed.event.data_content_type = "application/json";
  consumed.event.data = R"({"tenantId": "acme", "idempotencyKey": "crm-43",
      "spec": {"requestTypeId": "email", "title": "Hello", "requester": {"userId": "crm"}}})";
  ASSERT_TRUE(Await(handler_.Handle(consumed)).ok());
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(SubmissionsHandlerTest, InvalidSubmissionIsRejectedAndDeadLettered) {
  v1::RequestSubmissionReceived s = Valid();
  s.mutable_spec()->clear_title();
  (*s.mutable_spec()->mutable_fields())["page_url"] = "not a url";
  absl::Status status = Await(handler_.Handle(Event(s)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("spec.title: is required"));

  v1::RequestRejected rejected = OnlyRejection();
  EXPECT_EQ(publisher_.published()[0].key, "crm-42");
  EXPECT_EQ(publisher_.published()[0].id, "evt_rejected_evt_in_1");
  EXPECT_EQ(rejected.tenant_id(), "acme");
  EXPECT_EQ(rejected.idempotency_key(), "crm-42");
  EXPECT_EQ(rejected.submission_event_id(), "evt_in_1");
  EXPECT_EQ(rejected.request_id(), RejectedRequestId("acme", "crm-42"));
  EXPECT_THAT(rejected.reason(), HasSubstr("spec.title: is required"));
  ASSERT_EQ(rejected.field_errors_size(), 2);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(flywheel_intake_rejected_events_total{reason="invalid"} 1)"));
}

TEST_F(SubmissionsHandlerTest, UndefinedEnumValuesAreRejectedNamingTheFields) {
  v1::RequestSubmissionReceived s = Valid();
  s.mutable_spec()->mutable_business_impact()->set_level(static_cast<v1::ImpactLevel>(99));
  s.mutable_spec()->add_channels(static_cast<common::v1::Channel>(42));
  absl::Status status = Await(handler_.Handle(Event(s)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);

  v1::RequestRejected rejected = OnlyRejection();
  EXPECT_THAT(rejected.reason(), HasSubstr("spec.business_impact.level: 99 is not a defined "
                                           "flywheel.intake.v1.ImpactLevel"));
  std::vector<std::string> fields;
  for (const v1::FieldError& e : rejected.field_errors()) fields.push_back(e.field());
  EXPECT_THAT(fields, ::testing::ElementsAre("spec.business_impact.level", "spec.channels[0]"));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(R"(flywheel_intake_rejected_events_total{reason="invalid"} 1)"));
}

TEST_F(SubmissionsHandlerTest, UndefinedEnumNumberInJsonIsRejected) {
  kafka::ConsumedEvent consumed = Event(Valid());
  consumed.event.data_content_type = "application/json";
  consumed.event.data = R"({"tenantId": "acme", "idempotencyKey": "crm-44",
      "spec": {"requestTypeId": "email", "title": "Hello", "requester": {"userId": "crm"},
               "businessImpact": {"level": 99}}})";
  EXPECT_EQ(Await(handler_.Handle(consumed)).code(), absl::StatusCode::kInvalidArgument);
  v1::RequestRejected rejected = OnlyRejection();
  ASSERT_EQ(rejected.field_errors_size(), 1);
  EXPECT_EQ(rejected.field_errors(0).field(), "spec.business_impact.level");
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(SubmissionsHandlerTest, UndecodablePayloadIsRejectedWithTheRecordKey) {
  kafka::ConsumedEvent consumed = Event(Valid());
  consumed.event.data = "\xff\xff not protobuf";
  consumed.event.extensions["tenant"] = "acme";
  absl::Status status = Await(handler_.Handle(consumed));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a flywheel.intake.v1.RequestSubmissionReceived"));
  v1::RequestRejected rejected = OnlyRejection();
  EXPECT_EQ(publisher_.published()[0].key, "crm-42");
  EXPECT_EQ(rejected.tenant_id(), "acme");
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(SubmissionsHandlerTest, WrongTypeIsRejected) {
  kafka::ConsumedEvent consumed = Event(Valid());
  consumed.event.type = events::kRequestSubmitted;
  EXPECT_EQ(Await(handler_.Handle(consumed)).code(), absl::StatusCode::kInvalidArgument);
  OnlyRejection();
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(SubmissionsHandlerTest, OversizedSubmissionIsRejectedUnread) {
  v1::RequestSubmissionReceived s = Valid();
  s.mutable_spec()->set_description(std::string(kMaxSubmissionBytes, 'x'));
  absl::Status status = Await(handler_.Handle(Event(s)));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("the limit is 1048576 (1 MiB)"));
  OnlyRejection();
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(SubmissionsHandlerTest, ReusedKeyWithAnotherSpecIsRejectedNamingTheKey) {
  ASSERT_TRUE(Await(handler_.Handle(Event(Valid()))).ok());
  publisher_.Clear();
  v1::RequestSubmissionReceived other = Valid();
  other.mutable_spec()->set_title("Another page");
  EXPECT_EQ(Await(handler_.Handle(Event(other))).code(), absl::StatusCode::kInvalidArgument);
  v1::RequestRejected rejected = OnlyRejection();
  ASSERT_EQ(rejected.field_errors_size(), 1);
  EXPECT_EQ(rejected.field_errors(0).field(), "idempotency_key");
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(SubmissionsHandlerTest, OutagesAreRetriedNotDeadLettered) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(Await(handler_.Handle(Event(Valid()))).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((publisher_.size() == 0));

  store_.fail_with = absl::OkStatus();
  publisher_.FailWith(absl::UnavailableError("broker down"));
  v1::RequestSubmissionReceived bad = Valid();
  bad.mutable_spec()->clear_title();
  // The rejection could not be announced: retry rather than dead-letter.
  EXPECT_EQ(Await(handler_.Handle(Event(bad))).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace flywheel::intake
