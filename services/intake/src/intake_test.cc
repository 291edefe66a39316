#include "intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::intake {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Records what would have been published; can be told to fail.
class RecordingPublisher final : public kafka::EventPublisher {
 public:
  absl::StatusOr<std::string> Publish(const kafka::OutgoingEvent& event) override {
    if (!fail_with.ok()) return fail_with;
    published.push_back(event);
    return "evt_" + std::to_string(published.size());
  }
  std::vector<kafka::OutgoingEvent> published;
  absl::Status fail_with;
};

class IntakeTest : public ::testing::Test {
 protected:
  v1::SubmitRequestRequest Valid() {
    v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key("k-1");
    r.mutable_spec()->set_request_type_id("email");
    r.mutable_spec()->set_title("Newsletter, May");
    r.mutable_spec()->mutable_requester()->set_user_id("u-1");
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()) + 3600);
    return r;
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  IntakeMetrics intake_metrics_{metrics_};
  RecordingPublisher publisher_;
  Intake intake_{{.request_types = DefaultRequestTypes(), .requests_topic = "p.requests"},
                 publisher_,
                 intake_metrics_,
                 clock_};
};

TEST_F(IntakeTest, AcceptedRequestIsPublishedAsRequestSubmitted) {
  auto response = intake_.Submit(Valid());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(response->request_id(), StartsWith("req_"));
  EXPECT_EQ(response->priority(), common::v1::PRIORITY_P2);
  EXPECT_EQ(response->priority_reason(), "due within 48 hours");

  ASSERT_EQ(publisher_.published.size(), 1u);
  const kafka::OutgoingEvent& event = publisher_.published[0];
  EXPECT_EQ(event.topic, "p.requests");
  EXPECT_EQ(event.type, events::kRequestSubmitted);
  EXPECT_EQ(event.key, response->request_id());
  EXPECT_EQ(event.extensions.at("tenant"), "acme");
  v1::RequestSubmitted payload;
  ASSERT_TRUE(payload.ParseFromString(event.data));
  EXPECT_EQ(payload.request_id(), response->request_id());
  EXPECT_EQ(payload.request().spec().title(), "Newsletter, May");
  EXPECT_EQ(payload.request().status(), v1::REQUEST_STATUS_SUBMITTED);
  EXPECT_EQ(payload.request().create_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_intake_submissions_total{request_type="email",result="accepted"} 1)"));
}

TEST_F(IntakeTest, InvalidRequestPublishesNothing) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_request_type_id("made-up");
  auto response = intake_.Submit(r);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(publisher_.published.empty());
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_intake_submissions_total{request_type="unknown",result="invalid"} 1)"));
}

TEST_F(IntakeTest, ValidateOnlyRanksButPublishesNothing) {
  v1::SubmitRequestRequest r = Valid();
  r.set_validate_only(true);
  auto response = intake_.Submit(r);
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(response->request_id().empty());
  EXPECT_EQ(response->priority(), common::v1::PRIORITY_P2);
  EXPECT_TRUE(publisher_.published.empty());
}

TEST_F(IntakeTest, PublishFailureIsUnavailableSoTheCallerRetries) {
  publisher_.fail_with = absl::DeadlineExceededError("broker down");
  auto response = intake_.Submit(Valid());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(response.status().message(), HasSubstr("retry with the same idempotency key"));
}

}  // namespace
}  // namespace flywheel::intake
