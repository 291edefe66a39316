#include "intake.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "flywheel/async/testing/await.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/server.h"
#include "flywheel/grpc/status.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "in_memory_request_store.h"
#include "intake_grpc.h"
#include "policy_parser.h"

namespace flywheel::intake {
namespace {

using async::testing::Await;

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::shared_ptr<const Policy> DefaultPolicy() {
  auto policy = ParsePolicy(DefaultPolicyYaml());
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::make_shared<const Policy>(*std::move(policy));
}

class IntakeTest : public ::testing::Test {
 protected:
  v1::SubmitRequestRequest Valid(const std::string& key = "k-1") {
    v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key(key);
    r.mutable_spec()->set_request_type_id("email");
    r.mutable_spec()->set_title("Newsletter, May");
    r.mutable_spec()->mutable_requester()->set_user_id("u-1");
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()) + 3600);
    return r;
  }

  std::string SubmitOk(const v1::SubmitRequestRequest& r) {
    auto response = Await(intake_.Submit(r));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->request_id() : "";
  }

  v1::Request GetOk(const std::string& id, const std::string& tenant = "acme") {
    v1::GetRequestRequest get;
    get.set_tenant_id(tenant);
    get.set_request_id(id);
    auto got = Await(intake_.Get(get));
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->request() : v1::Request();
  }

  FakeClock clock_;
  metrics::Metrics metrics_;
  IntakeMetrics intake_metrics_{metrics_};
  kafka::testing::RecordingPublisher publisher_;
  outbox::testing::InMemoryOutbox outbox_{publisher_};
  InMemoryRequestStore store_{outbox_};
  LivePolicy policy_{DefaultPolicy()};
  Intake intake_{
      {.requests_topic = "p.requests"}, policy_, store_, outbox_, intake_metrics_, clock_};
};

TEST_F(IntakeTest, AcceptedRequestIsStoredAndPublishedAsRequestSubmitted) {
  auto response = Await(intake_.Submit(Valid()));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(response->request_id(), StartsWith("req_"));
  EXPECT_EQ(response->priority(), common::v1::PRIORITY_P2);
  EXPECT_EQ(response->priority_reason(), "due within 48 hours");
  EXPECT_EQ(response->sla_class(), common::v1::SLA_CLASS_STANDARD);
  EXPECT_FALSE(response->replayed());

  ASSERT_EQ(publisher_.size(), 1u);
  const kafka::OutgoingEvent event = publisher_.published()[0];
  EXPECT_EQ(event.topic, "p.requests");
  EXPECT_EQ(event.type, events::kRequestSubmitted);
  EXPECT_EQ(event.key, response->request_id());
  EXPECT_EQ(event.id, "evt_submitted_" + response->request_id());
  EXPECT_EQ(event.extensions.at("tenant"), "acme");
  v1::RequestSubmitted payload;
  ASSERT_TRUE(payload.ParseFromString(event.data));
  EXPECT_EQ(payload.request_id(), response->request_id());
  EXPECT_EQ(payload.request().spec().title(), "Newsletter, May");
  EXPECT_EQ(payload.request().status(), v1::REQUEST_STATUS_SUBMITTED);
  EXPECT_EQ(payload.request().create_time().seconds(), absl::ToUnixSeconds(clock_.Now()));

  auto stored = Await(store_.Get("acme", response->request_id()));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE(outbox_.Stored("acme").empty()) << "published, so the outbox is empty";
  EXPECT_EQ((*stored)->priority_reason(), "due within 48 hours");
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_intake_submissions_total{request_type="email",result="accepted"} 1)"));
}

TEST_F(IntakeTest, InvalidRequestStoresAndPublishesNothing) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_request_type_id("made-up");
  auto response = Await(intake_.Submit(r));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((publisher_.size() == 0));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_THAT(
      metrics_.Render(),
      HasSubstr(R"(flywheel_intake_submissions_total{request_type="unknown",result="invalid"} 1)"));
}

TEST_F(IntakeTest, UndefinedEnumValuesAreRefusedNamingEachField) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->mutable_business_impact()->set_level(static_cast<v1::ImpactLevel>(99));
  r.mutable_spec()->add_channels(common::v1::CHANNEL_EMAIL);
  r.mutable_spec()->add_channels(static_cast<common::v1::Channel>(42));
  // Through the gRPC edge, as a client sees it (auth in dev mode: this test
  // is about the mapping).
  auto authenticator = auth::Authenticator::Create({.dev_mode = true}, SystemClock::Instance());
  ASSERT_TRUE(authenticator.ok()) << authenticator.status();
  auto guard = rpc::Guard::Create(**authenticator, IntakeRoles(), metrics_, "intake");
  ASSERT_TRUE(guard.ok()) << guard.status();
  IntakeGrpc grpc(intake_, **guard, async::testing::TestIo());
  auto server = rpc::Server::Start(
      {.address = "127.0.0.1:0", .service_name = "intake", .drain_timeout = absl::Seconds(5)},
      {&grpc}, metrics_);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::IntakeService::NewStub(::grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), ::grpc::InsecureChannelCredentials()));
  ::grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::SubmitRequestResponse response;
  ::grpc::Status status = stub->SubmitRequest(&context, r, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(
      rpc::BadRequestFields(status),
      ::testing::ElementsAre(
          FieldViolation{"spec.business_impact.level",
                         "99 is not a defined flywheel.intake.v1.ImpactLevel"},
          FieldViolation{"spec.channels[1]", "42 is not a defined flywheel.common.v1.Channel"}));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_TRUE((publisher_.size() == 0));
  // validate_only is judged the same way: no priority for an undefined level.
  r.set_validate_only(true);
  EXPECT_EQ(Await(intake_.Submit(r)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IntakeTest, UnknownTenantIsRefusedOnEveryCall) {
  v1::SubmitRequestRequest r = Valid();
  r.set_tenant_id("initech");
  EXPECT_EQ(FieldViolationsOf(Await(intake_.Submit(r)).status())[0].field, "tenant_id");
  v1::GetRequestRequest get;
  get.set_tenant_id("initech");
  get.set_request_id("req_x");
  EXPECT_EQ(FieldViolationsOf(Await(intake_.Get(get)).status())[0].field, "tenant_id");
  v1::ListRequestsRequest list;
  list.set_tenant_id("initech");
  EXPECT_EQ(Await(intake_.List(list)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(IntakeTest, OversizedSubmissionIsResourceExhausted) {
  v1::SubmitRequestRequest r = Valid();
  r.mutable_spec()->set_description(std::string(1024 * 1024, 'x'));
  auto response = Await(intake_.Submit(r));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(response.status().message(), HasSubstr("the limit is 1048576 (1 MiB)"));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_TRUE((publisher_.size() == 0));
}

TEST_F(IntakeTest, ValidateOnlyRanksButStoresAndPublishesNothing) {
  v1::SubmitRequestRequest r = Valid();
  r.set_validate_only(true);
  auto response = Await(intake_.Submit(r));
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(response->request_id().empty());
  EXPECT_EQ(response->priority(), common::v1::PRIORITY_P2);
  EXPECT_TRUE((publisher_.size() == 0));
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(IntakeTest, SameKeySameSpecReplaysAndPublishesNothingNew) {
  const v1::SubmitRequestRequest request = Valid();
  auto first = Await(intake_.Submit(request));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Minutes(5));
  auto again = Await(intake_.Submit(request));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->request_id(), first->request_id());
  EXPECT_EQ(again->priority(), first->priority());
  EXPECT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(IntakeTest, RetryAfterTheDueDatePassedStillReplays) {
  // The first attempt was stored, but the caller never saw the answer; by
  // the time it retries, the due date is in the past. The retry must get the
  // original request back, not a validation error about the date.
  const v1::SubmitRequestRequest request = Valid();
  auto first = Await(intake_.Submit(request));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Hours(24 * 30));
  auto again = Await(intake_.Submit(request));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->request_id(), first->request_id());
  EXPECT_EQ(publisher_.size(), 1u);
}

TEST_F(IntakeTest, SameKeyDifferentSpecIsAlreadyExists) {
  ASSERT_TRUE(Await(intake_.Submit(Valid())).ok());
  v1::SubmitRequestRequest other = Valid();
  other.mutable_spec()->set_title("Something else");
  auto response = Await(intake_.Submit(other));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(response.status().message(), HasSubstr("idempotency_key 'k-1'"));
  EXPECT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(IntakeTest, SameKeyInAnotherTenantIsADifferentRequest) {
  ASSERT_TRUE(Await(intake_.Submit(Valid())).ok());
  v1::SubmitRequestRequest demo = Valid();
  demo.set_tenant_id("demo");
  auto response = Await(intake_.Submit(demo));
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->replayed());
  EXPECT_EQ(store_.size(), 2u);
}

TEST_F(IntakeTest, BrokerOutageStillAcceptsAndLeavesTheEventToTheOutbox) {
  publisher_.FailWith(absl::DeadlineExceededError("broker down"));
  auto response = Await(intake_.Submit(Valid()));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(store_.size(), 1u);
  const auto left = outbox_.Stored("acme");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, "evt_submitted_" + response->request_id());

  // A retry is answered from what the first call stored; nothing is doubled.
  publisher_.FailWith(absl::OkStatus());
  auto retried = Await(intake_.Submit(Valid()));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->replayed());
  EXPECT_EQ(publisher_.size(), 0u);
  ASSERT_TRUE(outbox_.Drain("acme").ok());
  ASSERT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(publisher_.published()[0].id, left[0].id);
}

TEST_F(IntakeTest, AChangeWaitsForTheRequestsEarlierEventsSoTheyKeepTheirOrder) {
  publisher_.FailWith(absl::DeadlineExceededError("broker down"));
  const std::string id = SubmitOk(Valid());
  v1::CancelRequestRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_request_id(id);
  cancel.set_reason("no budget");
  // Still down: the submitted event cannot go out first, so the cancel waits.
  EXPECT_EQ(Await(intake_.Cancel(cancel)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetOk(id).status(), v1::REQUEST_STATUS_SUBMITTED);

  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(Await(intake_.Cancel(cancel)).ok());
  std::vector<std::string> types;
  for (const auto& event : publisher_.published()) types.push_back(event.type);
  EXPECT_THAT(types, ::testing::ElementsAre(events::kRequestSubmitted, events::kRequestCancelled));
}

TEST_F(IntakeTest, StoreOutageIsUnavailableAndPublishesNothing) {
  store_.fail_with = absl::UnavailableError("redis down");
  EXPECT_EQ(Await(intake_.Submit(Valid())).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((publisher_.size() == 0));
}

TEST_F(IntakeTest, GetIsScopedByTenant) {
  const std::string id = SubmitOk(Valid());
  EXPECT_EQ(GetOk(id).spec().title(), "Newsletter, May");
  v1::GetRequestRequest other;
  other.set_tenant_id("demo");
  other.set_request_id(id);
  EXPECT_EQ(Await(intake_.Get(other)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IntakeTest, ListFiltersAndPages) {
  for (int i = 0; i < 5; ++i) {
    v1::SubmitRequestRequest r = Valid("k-" + std::to_string(i));
    if (i % 2) r.mutable_spec()->mutable_requester()->set_user_id("u-2");
    SubmitOk(r);
    clock_.Advance(absl::Seconds(1));
  }
  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  list.set_requester_user_id("u-2");
  list.set_page_size(1);
  auto first = Await(intake_.List(list));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->requests_size(), 1);
  EXPECT_EQ(first->requests(0).idempotency_key(), "k-3");
  list.set_page_token(first->next_page_token());
  auto second = Await(intake_.List(list));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->requests_size(), 1);
  EXPECT_EQ(second->requests(0).idempotency_key(), "k-1");
  EXPECT_EQ(second->next_page_token(), "");
}

v1::UpdateRequestRequest Update(const std::string& id, const std::vector<std::string>& paths) {
  v1::UpdateRequestRequest u;
  u.set_tenant_id("acme");
  u.set_request_id(id);
  for (const auto& p : paths) u.mutable_update_mask()->add_paths(p);
  u.set_actor_id("ops-1");
  return u;
}

TEST_F(IntakeTest, UpdateChangesMaskedFieldsRecomputesPriorityAndPublishes) {
  const std::string id = SubmitOk(Valid());
  v1::UpdateRequestRequest u = Update(id, {"title", "due_time", "fields.sender_email"});
  u.mutable_spec()->set_title("Newsletter, June");
  u.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()) + 30 * 86400);
  (*u.mutable_spec()->mutable_fields())["sender_email"] = "news@example.com";
  u.mutable_spec()->set_description("ignored: not in the mask");
  u.set_expected_revision(1);
  auto updated = Await(intake_.Update(u));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->request().revision(), 2);
  EXPECT_EQ(updated->request().spec().title(), "Newsletter, June");
  EXPECT_EQ(updated->request().spec().description(), "");
  EXPECT_EQ(updated->request().spec().fields().at("sender_email"), "news@example.com");
  EXPECT_EQ(updated->request().priority(), common::v1::PRIORITY_P3);
  EXPECT_EQ(GetOk(id).spec().title(), "Newsletter, June");

  ASSERT_EQ(publisher_.size(), 2u);
  EXPECT_EQ(publisher_.published()[1].type, events::kRequestUpdated);
  EXPECT_EQ(publisher_.published()[1].id, "evt_updated_r2_" + id);
  v1::RequestUpdated payload;
  ASSERT_TRUE(payload.ParseFromString(publisher_.published()[1].data));
  EXPECT_THAT(payload.changed_paths().paths(),
              ::testing::ElementsAre("title", "due_time", "fields.sender_email"));
  EXPECT_EQ(payload.actor_id(), "ops-1");
}

TEST_F(IntakeTest, UpdateRefusesStaleRevisionTypeChangeAndBadValues) {
  const std::string id = SubmitOk(Valid());
  v1::UpdateRequestRequest stale = Update(id, {"title"});
  stale.mutable_spec()->set_title("x");
  stale.set_expected_revision(7);
  EXPECT_EQ(Await(intake_.Update(stale)).status().code(), absl::StatusCode::kAborted);

  v1::UpdateRequestRequest type = Update(id, {"request_type_id"});
  type.mutable_spec()->set_request_type_id("blog_post");
  auto refused = Await(intake_.Update(type));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(refused.status())[0].field, "update_mask");

  v1::UpdateRequestRequest bad = Update(id, {"fields.send_date", "title"});
  (*bad.mutable_spec()->mutable_fields())["send_date"] = "yesterday";
  auto invalid = Await(intake_.Update(bad));
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : FieldViolationsOf(invalid.status())) fields.push_back(v.field);
  EXPECT_THAT(fields, ::testing::UnorderedElementsAre("spec.fields.send_date", "spec.title"));

  EXPECT_EQ(GetOk(id).revision(), 1);
  EXPECT_EQ(publisher_.size(), 1u);
}

TEST_F(IntakeTest, UpdateAndListRefuseUndefinedEnumValues) {
  const std::string id = SubmitOk(Valid());
  v1::UpdateRequestRequest update = Update(id, {"business_impact"});
  update.mutable_spec()->mutable_business_impact()->set_level(static_cast<v1::ImpactLevel>(99));
  update.set_priority_override(static_cast<common::v1::Priority>(7));
  std::vector<std::string> fields;
  for (const auto& v : FieldViolationsOf(Await(intake_.Update(update)).status()))
    fields.push_back(v.field);
  EXPECT_THAT(fields, ::testing::ElementsAre("spec.business_impact.level", "priority_override"));
  EXPECT_EQ(GetOk(id).revision(), 1);

  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  list.add_statuses(static_cast<v1::RequestStatus>(9));
  auto listed = Await(intake_.List(list));
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(listed.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(listed.status())[0].field, "statuses[0]");
}

TEST_F(IntakeTest, UpdateDoesNotRejudgeUnchangedFieldsThatHaveAged) {
  const std::string id = SubmitOk(Valid());  // due in one hour
  clock_.Advance(absl::Hours(2));
  v1::UpdateRequestRequest u = Update(id, {"description"});
  u.mutable_spec()->set_description("More detail");
  EXPECT_TRUE(Await(intake_.Update(u)).ok());
}

TEST_F(IntakeTest, CancelPublishesOnceAndCancelledRequestsCannotChange) {
  const std::string id = SubmitOk(Valid());
  v1::CancelRequestRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_request_id(id);
  cancel.set_reason("campaign dropped");
  cancel.set_actor_id("u-1");
  auto cancelled = Await(intake_.Cancel(cancel));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->request().status(), v1::REQUEST_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->request().cancel_reason(), "campaign dropped");
  ASSERT_EQ(publisher_.size(), 2u);
  EXPECT_EQ(publisher_.published()[1].type, events::kRequestCancelled);

  auto again = Await(intake_.Cancel(cancel));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->request().revision(), cancelled->request().revision());
  EXPECT_EQ(publisher_.size(), 2u);

  v1::UpdateRequestRequest u = Update(id, {"title"});
  u.mutable_spec()->set_title("too late");
  EXPECT_EQ(Await(intake_.Update(u)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IntakeTest, CancelNeedsAReasonAndTheRightTenant) {
  const std::string id = SubmitOk(Valid());
  v1::CancelRequestRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_request_id(id);
  EXPECT_EQ(FieldViolationsOf(Await(intake_.Cancel(cancel)).status())[0].field, "reason");
  cancel.set_reason("x");
  cancel.set_tenant_id("demo");
  EXPECT_EQ(Await(intake_.Cancel(cancel)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetOk(id).status(), v1::REQUEST_STATUS_SUBMITTED);
}

TEST_F(IntakeTest, ReloadedPolicyAppliesToTheNextCall) {
  auto narrower = ParsePolicy("tenants: [acme]\nrequest_types:\n  - id: podcast\n");
  ASSERT_TRUE(narrower.ok());
  policy_.Set(std::make_shared<const Policy>(*std::move(narrower)));
  EXPECT_EQ(Await(intake_.Submit(Valid())).status().code(), absl::StatusCode::kInvalidArgument);
  v1::SubmitRequestRequest podcast = Valid();
  podcast.mutable_spec()->set_request_type_id("podcast");
  EXPECT_TRUE(Await(intake_.Submit(podcast)).ok());
}

}  // namespace
}  // namespace flywheel::intake
