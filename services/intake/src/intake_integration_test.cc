// Intake through the real broker and Redis, started exactly as main() starts
// it (StartIntake), on its own topic prefix and key prefix per test.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/status.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/pool.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "flywheel/routing/v1/events.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "intake.h"
#include "intake_app.h"
#include "redis_request_store.h"

namespace flywheel::intake {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

class IntakeIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  // The relay looks often, so a test of it waits little.
  IntakeIntegrationTest() : ServiceFixture(StartIntake, "outbox:\n  relay_interval: 200ms\n") {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::IntakeService::NewStub(channel());
  }

  // A call with an ops console's token for `tenant`.
  std::unique_ptr<::grpc::ClientContext> Context(const std::string& tenant = "acme") const {
    return auth().CallAs(tenant);
  }

  static v1::SubmitRequestRequest Valid(const std::string& key, const std::string& user = "maria") {
    v1::SubmitRequestRequest r;
    r.set_tenant_id("acme");
    r.set_idempotency_key(key);
    r.mutable_spec()->set_request_type_id("blog_post");
    r.mutable_spec()->set_title("Autumn launch post");
    r.mutable_spec()->mutable_requester()->set_user_id(user);
    r.mutable_spec()->mutable_due_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 86400);
    (*r.mutable_spec()->mutable_fields())["target_audience"] = "IT buyers";
    return r;
  }

  ::grpc::Status Submit(const v1::SubmitRequestRequest& request,
                        v1::SubmitRequestResponse* response) {
    return stub_->SubmitRequest(Context(request.tenant_id()).get(), request, response);
  }

  std::string SubmitOk(const v1::SubmitRequestRequest& request) {
    v1::SubmitRequestResponse response;
    ::grpc::Status status = Submit(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.request_id();
  }

  // Every record on the requests topic, once it holds at least `at_least`.
  // A gRPC call publishes before it answers, so after one returns its events
  // are all there; events from the submissions consumer arrive later.
  std::vector<kafka::Record> RequestsTopic(size_t at_least = 0) {
    return RecordsOn(events::kRequestsTopic, at_least);
  }

  static std::string TypeOf(const kafka::Record& record) {
    return std::string(record.header("ce_type").value_or(""));
  }

  void PublishSubmission(const std::string& key, const std::string& data,
                         const std::string& event_id) {
    Publish(events::kSubmissionsTopic, {.id = event_id,
                                        .source = "//tests/crm",
                                        .type = events::kRequestSubmissionReceived,
                                        .data_content_type = kafka::kProtobufContentType,
                                        .key = key,
                                        .data = data});
  }

  std::unique_ptr<v1::IntakeService::Stub> stub_;
};

TEST_F(IntakeIntegrationTest, SubmitGetAndListWithFiltersAndPages) {
  std::vector<std::string> bobs;
  for (int i = 0; i < 5; ++i) {
    const std::string id = SubmitOk(Valid("k" + std::to_string(i), i % 2 ? "bob" : "ann"));
    if (i % 2) bobs.insert(bobs.begin(), id);  // Newest first.
  }

  v1::GetRequestRequest get;
  get.set_tenant_id("acme");
  get.set_request_id(bobs[0]);
  v1::GetRequestResponse got;
  ASSERT_TRUE(stub_->GetRequest(Context().get(), get, &got).ok());
  EXPECT_EQ(got.request().spec().requester().user_id(), "bob");
  EXPECT_EQ(got.request().status(), v1::REQUEST_STATUS_SUBMITTED);
  EXPECT_EQ(got.request().priority_reason(), "due within 48 hours");

  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  list.set_requester_user_id("bob");
  list.add_request_type_ids("blog_post");
  list.add_statuses(v1::REQUEST_STATUS_SUBMITTED);
  list.set_page_size(1);
  std::vector<std::string> listed;
  for (int page = 0; page < 5; ++page) {
    v1::ListRequestsResponse response;
    ::grpc::Status status = stub_->ListRequests(Context().get(), list, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& r : response.requests()) listed.push_back(r.request_id());
    if (response.next_page_token().empty()) break;
    list.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(listed, bobs);

  list.clear_page_token();
  list.clear_statuses();
  list.add_statuses(v1::REQUEST_STATUS_CANCELLED);
  v1::ListRequestsResponse none;
  ASSERT_TRUE(stub_->ListRequests(Context().get(), list, &none).ok());
  EXPECT_EQ(none.requests_size(), 0);
}

TEST_F(IntakeIntegrationTest, ReplayPublishesNothingNewAndOtherBodyIsAlreadyExists) {
  const v1::SubmitRequestRequest request = Valid("same-key");
  v1::SubmitRequestResponse first;
  v1::SubmitRequestResponse second;
  ASSERT_TRUE(Submit(request, &first).ok());
  ASSERT_TRUE(Submit(request, &second).ok());
  EXPECT_EQ(second.request_id(), first.request_id());
  EXPECT_TRUE(second.replayed());

  v1::SubmitRequestRequest other = request;
  other.mutable_spec()->set_title("A different post");
  v1::SubmitRequestResponse refused;
  ::grpc::Status status = Submit(other, &refused);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("idempotency_key 'same-key'"));

  std::vector<kafka::Record> records = RequestsTopic();
  ASSERT_EQ(records.size(), 1u) << "a replay must publish nothing new";
  EXPECT_EQ(TypeOf(records[0]), events::kRequestSubmitted);
  EXPECT_EQ(records[0].key, first.request_id());
}

TEST_F(IntakeIntegrationTest, TenantsNeverSeeEachOthersRequests) {
  const std::string id = SubmitOk(Valid("t1"));
  v1::GetRequestRequest get;
  get.set_tenant_id("demo");
  get.set_request_id(id);
  v1::GetRequestResponse got;
  // demo's caller asking for acme's request id inside demo: not there, the
  // same answer as for an id that never existed.
  EXPECT_EQ(stub_->GetRequest(Context("demo").get(), get, &got).error_code(),
            ::grpc::StatusCode::NOT_FOUND);
  // acme's caller naming demo: refused before anything is read.
  EXPECT_EQ(stub_->GetRequest(Context("acme").get(), get, &got).error_code(),
            ::grpc::StatusCode::PERMISSION_DENIED);

  v1::ListRequestsRequest list;
  list.set_tenant_id("demo");
  v1::ListRequestsResponse listed;
  ASSERT_TRUE(stub_->ListRequests(Context("demo").get(), list, &listed).ok());
  EXPECT_EQ(listed.requests_size(), 0);

  v1::CancelRequestRequest cancel;
  cancel.set_tenant_id("demo");
  cancel.set_request_id(id);
  cancel.set_reason("not yours");
  v1::CancelRequestResponse cancelled;
  EXPECT_EQ(stub_->CancelRequest(Context("demo").get(), cancel, &cancelled).error_code(),
            ::grpc::StatusCode::NOT_FOUND);

  get.set_tenant_id("acme");
  ASSERT_TRUE(stub_->GetRequest(Context().get(), get, &got).ok());
  EXPECT_EQ(got.request().status(), v1::REQUEST_STATUS_SUBMITTED);
}

TEST_F(IntakeIntegrationTest, UpdateAndCancelArePublishedOnce) {
  const std::string id = SubmitOk(Valid("u1"));
  v1::UpdateRequestRequest update;
  update.set_tenant_id("acme");
  update.set_request_id(id);
  update.mutable_spec()->set_title("Winter launch post");
  update.mutable_update_mask()->add_paths("title");
  update.set_expected_revision(1);
  v1::UpdateRequestResponse updated;
  ::grpc::Status status = stub_->UpdateRequest(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.request().revision(), 2);
  EXPECT_EQ(updated.request().spec().title(), "Winter launch post");
  // The same expected revision again is stale now.
  EXPECT_EQ(stub_->UpdateRequest(Context().get(), update, &updated).error_code(),
            ::grpc::StatusCode::ABORTED);

  v1::CancelRequestRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_request_id(id);
  cancel.set_reason("budget cut");
  v1::CancelRequestResponse cancelled;
  ASSERT_TRUE(stub_->CancelRequest(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.request().status(), v1::REQUEST_STATUS_CANCELLED);
  ASSERT_TRUE(stub_->CancelRequest(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.request().revision(), 3);

  update.set_expected_revision(0);
  EXPECT_EQ(stub_->UpdateRequest(Context().get(), update, &updated).error_code(),
            ::grpc::StatusCode::FAILED_PRECONDITION);

  std::vector<kafka::Record> records = RequestsTopic(3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(TypeOf(records[0]), events::kRequestSubmitted);
  EXPECT_EQ(TypeOf(records[1]), events::kRequestUpdated);
  EXPECT_EQ(TypeOf(records[2]), events::kRequestCancelled);
  v1::RequestCancelled payload;
  ASSERT_TRUE(payload.ParseFromString(records[2].value));
  EXPECT_EQ(payload.reason(), "budget cut");
}

TEST_F(IntakeIntegrationTest, RequestACutOffCallLeftUnannouncedIsPublishedByTheRelay) {
  // What a call cut off between storing and publishing leaves: a stored
  // request whose request.submitted sits in the tenant's outbox. Nobody
  // reads it again, yet the relay announces it.
  auto pool = redis::Pool::Create({.connection = options(), .capacity = 1});
  ASSERT_TRUE(pool.ok()) << pool.status();
  kafka::testing::RecordingPublisher never_used;
  metrics::Metrics unused;
  async::IoThreads io(1);
  auto async = redis::AsyncClient::Create(io.context(), {.connection = options()});
  ASSERT_TRUE(async.ok()) << async.status();
  // Keyed as the service kit keys intake's outbox.
  outbox::RedisOutbox outbox(**pool, never_used, {.key_prefix = prefix() + "intake:"}, unused,
                             SystemClock::Instance(), async->get());
  RedisRequestStore store(**async, prefix(), outbox);
  v1::RequestSubmitted submitted;
  submitted.set_tenant_id("acme");
  submitted.set_request_id("req_cut_off");
  v1::Request& request = *submitted.mutable_request();
  request.set_tenant_id("acme");
  request.set_request_id("req_cut_off");
  request.set_idempotency_key("cut-off");
  request.set_status(v1::REQUEST_STATUS_SUBMITTED);
  request.set_revision(1);
  request.mutable_spec()->set_title("Left behind");
  std::vector<kafka::OutgoingEvent> events = {{.topic = settings().Topic(events::kRequestsTopic),
                                               .type = events::kRequestSubmitted,
                                               .key = "req_cut_off",
                                               .data = submitted.SerializeAsString(),
                                               .id = DerivedEventId("submitted", "req_cut_off"),
                                               // Stored a minute ago: past the relay's grace.
                                               .time = absl::Now() - absl::Minutes(1)}};
  // ForScript stamps the queue with the store time: write it a minute back.
  auto created =
      async::BlockOn(io.context(), store.Create(request, "fingerprint", events, absl::Hours(1)));
  ASSERT_TRUE(created.ok()) << created.status();
  io.Stop();
  ASSERT_TRUE(
      admin()
          .Command({"ZADD", prefix() + "intake:outbox:{acme}:queue", "XX",
                    absl::StrCat(absl::ToUnixMicros(absl::Now() - absl::Minutes(1))), events[0].id})
          .ok());

  std::vector<kafka::Record> records = RequestsTopic(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].header("ce_id"), events[0].id);
  EXPECT_EQ(records[0].key, "req_cut_off");
  EXPECT_TRUE(WaitFor([&] {
    auto left = admin().Command({"ZCARD", prefix() + "intake:outbox:{acme}:queue"});
    return left.ok() && left->integer() == 0;
  })) << "the outbox still holds the event";
  EXPECT_TRUE(WaitFor([&] {
    return metrics().Render().find("flywheel_outbox_relayed_events_total 1") != std::string::npos;
  }));
  // Announced once: later passes find nothing more.
  EXPECT_EQ(RequestsTopic().size(), 1u);
}

TEST_F(IntakeIntegrationTest, RoutingEventsMoveTheRequestThroughItsLifecycle) {
  const std::string id = SubmitOk(Valid("lifecycle"));
  // This test stands in for routing, which owns the workflows topic.
  const std::string workflows = settings().Topic(events::kWorkflowsTopic);
  ASSERT_TRUE(kafka::EnsureTopics(settings().kafka_bootstrap_servers,
                                  {{.name = workflows, .partitions = 3}})
                  .ok());
  auto publish = [&](const std::string& type, const google::protobuf::Message& payload) {
    Publish(events::kWorkflowsTopic, {.id = "evt_" + NewRandomId(),
                                      .source = "//flywheel/routing",
                                      .type = type,
                                      .time = absl::Now(),
                                      .data_content_type = kafka::kProtobufContentType,
                                      .key = id,
                                      .data = payload.SerializeAsString()});
  };
  auto status_becomes = [&](v1::RequestStatus want) {
    return WaitFor([&] {
      v1::GetRequestRequest get;
      get.set_tenant_id("acme");
      get.set_request_id(id);
      v1::GetRequestResponse got;
      return stub_->GetRequest(Context().get(), get, &got).ok() && got.request().status() == want;
    });
  };

  routing::v1::RequestRouted routed;
  routed.set_tenant_id("acme");
  routed.set_request_id(id);
  routed.set_team_id("content");
  routed.set_owner_id("ana");
  publish(events::kRequestRouted, routed);
  ASSERT_TRUE(status_becomes(v1::REQUEST_STATUS_ACTIVE));

  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  list.add_statuses(v1::REQUEST_STATUS_ACTIVE);
  v1::ListRequestsResponse listed;
  ASSERT_TRUE(stub_->ListRequests(Context().get(), list, &listed).ok());
  ASSERT_EQ(listed.requests_size(), 1);
  EXPECT_EQ(listed.requests(0).owner_id(), "ana");

  routing::v1::WorkflowCompleted completed;
  completed.set_tenant_id("acme");
  completed.set_request_id(id);
  publish(events::kWorkflowCompleted, completed);
  ASSERT_TRUE(status_becomes(v1::REQUEST_STATUS_COMPLETED));
  // Status changes are routing's facts: intake announces nothing of its own.
  EXPECT_EQ(RequestsTopic().size(), 1u);
}

TEST_F(IntakeIntegrationTest, ValidSubmissionEventBecomesARequest) {
  v1::RequestSubmissionReceived submission;
  submission.set_tenant_id("acme");
  submission.set_idempotency_key("crm-1");
  submission.set_origin("crm");
  submission.mutable_spec()->set_request_type_id("email");
  submission.mutable_spec()->set_title("Event-driven newsletter");
  submission.mutable_spec()->mutable_requester()->set_user_id("crm");
  PublishSubmission("crm-1", submission.SerializeAsString(), "evt_crm_1");

  std::vector<kafka::Record> records = RequestsTopic(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(TypeOf(records[0]), events::kRequestSubmitted);
  v1::RequestSubmitted submitted;
  ASSERT_TRUE(submitted.ParseFromString(records[0].value));
  EXPECT_EQ(submitted.request().idempotency_key(), "crm-1");
  EXPECT_EQ(submitted.request().spec().title(), "Event-driven newsletter");
}

TEST_F(IntakeIntegrationTest, InvalidSubmissionEventIsDeadLetteredAndRejected) {
  v1::RequestSubmissionReceived submission;
  submission.set_tenant_id("acme");
  submission.set_idempotency_key("crm-2");
  submission.mutable_spec()->set_request_type_id("email");
  submission.mutable_spec()->mutable_requester()->set_user_id("crm");
  (*submission.mutable_spec()->mutable_fields())["send_date"] = "soon";
  PublishSubmission("crm-2", submission.SerializeAsString(), "evt_crm_2");
  PublishSubmission("crm-3", "\xff\xff garbage", "evt_crm_3");

  std::vector<kafka::Record> dead = kafka::testing::ReadTopic(
      settings().kafka_bootstrap_servers, settings().Topic(events::kIntakeDeadLetterTopic), 2);
  ASSERT_EQ(dead.size(), 2u);
  std::map<std::string, std::string> reasons;
  for (const auto& record : dead) {
    reasons[std::string(record.header("ce_id").value_or(""))] =
        std::string(record.header(kafka::kDeadLetterReasonHeader).value_or(""));
  }
  EXPECT_THAT(reasons["evt_crm_2"], HasSubstr("spec.title: is required"));
  EXPECT_THAT(reasons["evt_crm_2"], HasSubstr("spec.fields.send_date"));
  EXPECT_THAT(reasons["evt_crm_3"],
              HasSubstr("not a flywheel.intake.v1.RequestSubmissionReceived"));

  std::vector<kafka::Record> records = RequestsTopic(2);
  ASSERT_EQ(records.size(), 2u);
  std::map<std::string, v1::RequestRejected> rejected;
  for (const auto& record : records) {
    EXPECT_EQ(TypeOf(record), events::kRequestRejected);
    ASSERT_TRUE(rejected[record.key].ParseFromString(record.value));
  }
  EXPECT_EQ(rejected["crm-2"].submission_event_id(), "evt_crm_2");
  EXPECT_EQ(rejected["crm-2"].field_errors_size(), 2);
  EXPECT_THAT(rejected["crm-3"].reason(), HasSubstr("not a flywheel.intake.v1"));

  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  v1::ListRequestsResponse listed;
  ASSERT_TRUE(stub_->ListRequests(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.requests_size(), 0) << "a refused submission leaves nothing behind";
}

TEST_F(IntakeIntegrationTest, BadInputOverGrpcIsRefusedAndLeavesNothing) {
  v1::SubmitRequestRequest wrong = Valid("bad-1");
  wrong.set_tenant_id("initech");
  wrong.mutable_spec()->set_request_type_id("podcast");
  wrong.mutable_spec()->clear_title();
  v1::SubmitRequestResponse response;
  ::grpc::Status status = Submit(wrong, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : rpc::BadRequestFields(status)) fields.push_back(v.field);
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre("tenant_id", "spec.request_type_id", "spec.title"));

  v1::SubmitRequestRequest typed = Valid("bad-2");
  (*typed.mutable_spec()->mutable_fields())["word_count"] = "abc";
  (*typed.mutable_spec()->mutable_fields())["publish_date"] = "2001-01-01";
  (*typed.mutable_spec()->mutable_fields())["reference_url"] = "not a url";
  status = Submit(typed, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  fields.clear();
  for (const auto& v : rpc::BadRequestFields(status)) fields.push_back(v.field);
  EXPECT_THAT(fields,
              ::testing::UnorderedElementsAre("spec.fields.word_count", "spec.fields.publish_date",
                                              "spec.fields.reference_url"));

  v1::SubmitRequestRequest huge = Valid("bad-3");
  huge.mutable_spec()->set_description(std::string(1024 * 1024 + 1, 'x'));
  status = Submit(huge, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("the limit is 1048576"));
  // Far over: gRPC itself refuses it before intake reads it.
  huge.mutable_spec()->set_description(std::string(2 * 1024 * 1024, 'x'));
  status = Submit(huge, &response);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();

  v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  v1::ListRequestsResponse listed;
  ASSERT_TRUE(stub_->ListRequests(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.requests_size(), 0);
  EXPECT_TRUE(RequestsTopic().empty());
}

TEST_F(IntakeIntegrationTest, PolicyFileIsReloadedAndABrokenOneIsRefused) {
  const std::string path = ::testing::TempDir() + "intake_policy_" + NewRandomId() + ".yaml";
  auto write = [&](const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  };
  write("tenants: [acme]\nrequest_types:\n  - id: podcast\n");
  auto config = config::Config::FromString(
      auth().WithAuth("intake:\n  policy_file: " + path + "\n"), "test", {});
  ASSERT_TRUE(config.ok()) << config.status();
  metrics::Metrics metrics;
  auto app = StartIntake(settings(), *config, metrics);
  ASSERT_TRUE(app.ok()) << app.status();
  auto stub = v1::IntakeService::NewStub(runtime::testing::ChannelTo(**app));
  auto submit = [&](const std::string& type, const std::string& key) {
    v1::SubmitRequestRequest r = Valid(key);
    r.mutable_spec()->set_request_type_id(type);
    r.mutable_spec()->clear_fields();
    v1::SubmitRequestResponse response;
    return stub->SubmitRequest(Context().get(), r, &response).error_code();
  };
  EXPECT_EQ(submit("podcast", "p1"), ::grpc::StatusCode::OK);
  EXPECT_EQ(submit("blog_post", "p2"), ::grpc::StatusCode::INVALID_ARGUMENT);

  write("tenants: [acme\n");
  EXPECT_TRUE(WaitFor([&] {
    return metrics.Render().find(R"(flywheel_intake_policy_reloads_total{result="refused"} 1)") !=
           std::string::npos;
  })) << metrics.Render();
  EXPECT_EQ(submit("podcast", "p3"), ::grpc::StatusCode::OK) << "the running policy stays";

  write("tenants: [acme]\nrequest_types:\n  - id: podcast\n  - id: webinar\n");
  EXPECT_TRUE(WaitFor([&] { return submit("webinar", "p4") == ::grpc::StatusCode::OK; }));
  (*app)->Stop();
  std::remove(path.c_str());
}

// A Redis that asks for a user and a password, as a managed one does: the
// kit reads them from `redis.username` and the file `redis.password_file`
// names (a mounted Secret), and every connection of the service logs in.
class IntakeOnAPasswordedRedisTest : public IntakeIntegrationTest {
 protected:
  void SetUp() override {
    absl::StatusOr<redis::Endpoint> endpoint = redis::TestRedisEndpointFromEnv();
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    absl::StatusOr<redis::Connection> admin = redis::Connection::Connect({.endpoint = *endpoint});
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_.emplace(*std::move(admin));
    const std::string password = "pw-" + NewRandomId();
    ASSERT_TRUE(
        admin_->Command({"ACL", "SETUSER", user_, "on", ">" + password, "~*", "&*", "+@all"}).ok());
    std::ofstream(password_file_) << password << "\n";
    SetConfigYaml(absl::StrCat("outbox:\n  relay_interval: 200ms\nredis:\n  username: ", user_,
                               "\n  password_file: ", password_file_, "\n"));
    IntakeIntegrationTest::SetUp();
  }

  void TearDown() override {
    IntakeIntegrationTest::TearDown();
    if (admin_) (void)admin_->Command({"ACL", "DELUSER", user_});
    std::filesystem::remove(password_file_);
  }

  // How many connections Redis holds for `user_` now.
  int ConnectionsOfTheUser() {
    absl::StatusOr<redis::Reply> clients = admin_->Command({"CLIENT", "LIST"});
    if (!clients.ok()) return -1;
    int count = 0;
    for (absl::string_view line : absl::StrSplit(clients->str(), '\n')) {
      if (absl::StrContains(line, absl::StrCat(" user=", user_, " "))) ++count;
    }
    return count;
  }

  const std::string user_ = "flywheel-test-" + NewRandomId();
  const std::string password_file_ =
      (std::filesystem::temp_directory_path() / ("redis-password-" + NewRandomId())).string();
  std::optional<redis::Connection> admin_;
};

TEST_F(IntakeOnAPasswordedRedisTest, LogsInWithTheUserAndThePasswordFromItsFile) {
  const std::string id = SubmitOk(Valid("k-acl"));
  EXPECT_FALSE(id.empty());
  EXPECT_GE(ConnectionsOfTheUser(), 1) << "the service's connections are not the ACL user's";
}

}  // namespace
}  // namespace flywheel::intake
