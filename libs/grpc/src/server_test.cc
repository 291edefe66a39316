#include "flywheel/grpc/server.h"

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/grpc/async.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/status.h"
#include "flywheel/metrics/metrics.h"
#include "grpc_test_service.grpc.pb.h"

namespace flywheel::rpc {
namespace {

// Not ::grpc::health::v1's types: see grpc_test_service.proto.
using HealthCheckRequest = ::flywheel::rpctest::HealthProbeRequest;
using HealthCheckResponse = ::flywheel::rpctest::HealthProbeResponse;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Health has no generated stub here (only *_service.proto files get stubs),
// so the tests call it the way a generated stub would.
const ::grpc::internal::RpcMethod kHealthCheck("/grpc.health.v1.Health/Check",
                                               ::grpc::internal::RpcMethod::NORMAL_RPC);

constexpr char kEcho[] = "/flywheel.rpctest.TestService/Echo";
constexpr char kReject[] = "/flywheel.rpctest.TestService/Reject";
constexpr char kHold[] = "/flywheel.rpctest.TestService/Hold";

// What Hold waits on, shared by the synchronous and the callback service.
class HoldGate {
 public:
  // Marks a call entered.
  void Enter() { entered_.fetch_add(1); }
  bool released() const { return release_.HasBeenNotified(); }
  // Enters, then waits until Release() (true) or until `cancelled` says the
  // call is over (false).
  template <typename Cancelled>
  bool Hold(Cancelled cancelled) {
    Enter();
    while (!release_.WaitForNotificationWithTimeout(absl::Milliseconds(10))) {
      if (cancelled()) return false;
    }
    return true;
  }
  void AwaitEntered(int calls = 1) {
    EXPECT_TRUE(::flywheel::testing::WaitFor([&] { return entered_.load() >= calls; }))
        << entered_.load() << " of " << calls << " calls entered";
  }
  void Release() { release_.Notify(); }

 private:
  std::atomic<int> entered_{0};
  absl::Notification release_;
};

absl::Status TwoFieldErrors() {
  FieldErrors errors;
  errors.Add("brief.title", "is required");
  errors.Add("brief.due_date", "must be in the future");
  return errors.ToStatus();
}

// One implementation of TestService per gRPC API; the tests run on both.
class TestBackend {
 public:
  virtual ~TestBackend() = default;
  virtual ::grpc::Service* service() = 0;
  HoldGate& gate() { return gate_; }

 protected:
  HoldGate gate_;
};

class SyncBackend final : public TestBackend, public flywheel::rpctest::TestService::Service {
 public:
  ::grpc::Service* service() override { return this; }

  ::grpc::Status Echo(::grpc::ServerContext*, const flywheel::rpctest::EchoRequest* req,
                      flywheel::rpctest::EchoReply* reply) override {
    reply->set_text(req->text());
    return ::grpc::Status::OK;
  }

  ::grpc::Status Reject(::grpc::ServerContext*, const flywheel::rpctest::EchoRequest*,
                        flywheel::rpctest::EchoReply*) override {
    return ToGrpcStatus(TwoFieldErrors());
  }

  // Blocks until Release() or until the call is cancelled.
  ::grpc::Status Hold(::grpc::ServerContext* ctx, const flywheel::rpctest::EchoRequest* req,
                      flywheel::rpctest::EchoReply* reply) override {
    if (!gate_.Hold([ctx] { return ctx->IsCancelled(); })) {
      return ::grpc::Status(::grpc::StatusCode::CANCELLED, "cancelled");
    }
    reply->set_text(req->text());
    return ::grpc::Status::OK;
  }
};

// Echo answers on the gRPC thread; Reject and Hold run as coroutines.
class CallbackBackend final : public TestBackend,
                              public flywheel::rpctest::TestService::CallbackService {
 public:
  explicit CallbackBackend(CoroutineCallsOptions options = {}) : calls_(io_.context(), options) {}
  ::grpc::Service* service() override { return this; }

  ::grpc::ServerUnaryReactor* Echo(::grpc::CallbackServerContext* ctx,
                                   const flywheel::rpctest::EchoRequest* req,
                                   flywheel::rpctest::EchoReply* reply) override {
    flywheel::rpctest::EchoReply out;
    out.set_text(req->text());
    return Reply(ctx, reply, absl::StatusOr<flywheel::rpctest::EchoReply>(std::move(out)));
  }

  ::grpc::ServerUnaryReactor* Reject(::grpc::CallbackServerContext* ctx,
                                     const flywheel::rpctest::EchoRequest*,
                                     flywheel::rpctest::EchoReply* reply) override {
    return calls_.Run(ctx, reply, Rejected());
  }

  ::grpc::ServerUnaryReactor* Hold(::grpc::CallbackServerContext* ctx,
                                   const flywheel::rpctest::EchoRequest* req,
                                   flywheel::rpctest::EchoReply* reply) override {
    return calls_.Run(ctx, reply, Held(ctx, req));
  }

 private:
  static asio::awaitable<absl::StatusOr<flywheel::rpctest::EchoReply>> Rejected() {
    co_return TwoFieldErrors();
  }

  // Waits for the gate without holding a thread: looks every 10 ms.
  asio::awaitable<absl::StatusOr<flywheel::rpctest::EchoReply>> Held(
      ::grpc::CallbackServerContext* ctx, const flywheel::rpctest::EchoRequest* req) {
    gate_.Enter();
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (!gate_.released()) {
      if (ctx->IsCancelled()) co_return absl::CancelledError("cancelled");
      tick.expires_after(std::chrono::milliseconds(10));
      co_await tick.async_wait(asio::use_awaitable);
    }
    flywheel::rpctest::EchoReply out;
    out.set_text(req->text());
    co_return out;
  }

  async::IoThreads io_{2};
  CoroutineCalls calls_;
};

enum class Api { kSync, kCallback };

std::unique_ptr<TestBackend> MakeBackend(Api api) {
  if (api == Api::kSync) return std::make_unique<SyncBackend>();
  return std::make_unique<CallbackBackend>();
}

using ::flywheel::testing::WaitFor;

ServerOptions TestOptions() {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.service_name = "rpctest";
  options.drain_timeout = absl::Seconds(10);
  return options;
}

class ServerTest : public ::testing::TestWithParam<Api> {
 protected:
  ServerTest() : backend_(MakeBackend(GetParam())) {}

  void StartServer(std::vector<::grpc::Service*> services, ServerOptions options = TestOptions()) {
    absl::StatusOr<std::unique_ptr<Server>> started =
        Server::Start(std::move(options), std::move(services), metrics_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    ASSERT_GT(server_->port(), 0);
    channel_ = ::grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     ::grpc::InsecureChannelCredentials());
  }

  // The health status the server reports for `service`, or the call's error.
  absl::StatusOr<HealthCheckResponse::ServingStatus> CheckHealth(const std::string& service) {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    ::grpc::Status st = ::grpc::internal::BlockingUnaryCall<HealthCheckRequest, HealthCheckResponse,
                                                            google::protobuf::MessageLite,
                                                            google::protobuf::MessageLite>(
        channel_.get(), kHealthCheck, &ctx, req, &resp);
    if (!st.ok()) return FromGrpcStatus(st);
    return resp.status();
  }

  ::grpc::Status Call(const char* method, const std::string& text,
                      flywheel::rpctest::EchoReply* reply) {
    auto stub = flywheel::rpctest::TestService::NewStub(channel_);
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    flywheel::rpctest::EchoRequest req;
    req.set_text(text);
    if (std::string(method) == kEcho) return stub->Echo(&ctx, req, reply);
    if (std::string(method) == kReject) return stub->Reject(&ctx, req, reply);
    return stub->Hold(&ctx, req, reply);
  }

  bool RenderHas(const std::string& text) {
    return metrics_.Render().find(text) != std::string::npos;
  }

  ::grpc::Service* service() { return backend_->service(); }
  HoldGate& gate() { return backend_->gate(); }

  metrics::Metrics metrics_;
  std::unique_ptr<TestBackend> backend_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<::grpc::Channel> channel_;
};

TEST_P(ServerTest, HealthServingWithOnlyHealthThenStopsOnShutdown) {
  StartServer({});
  absl::StatusOr<HealthCheckResponse::ServingStatus> status = CheckHealth("");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, HealthCheckResponse::SERVING);

  // Nothing in flight: the drain does not wait for the timeout.
  const absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(CheckHealth("").status().code(), absl::StatusCode::kUnavailable);
  server_->Shutdown();  // A second call returns at once.
}

TEST_P(ServerTest, EveryServiceIsServingAndUnknownServiceIsNotFound) {
  StartServer({service()});
  absl::StatusOr<HealthCheckResponse::ServingStatus> status =
      CheckHealth("flywheel.rpctest.TestService");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, HealthCheckResponse::SERVING);
  EXPECT_EQ(CheckHealth("flywheel.nope.v1.Nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ServerTest, RedMetricsByMethodAndCode) {
  StartServer({service()});
  flywheel::rpctest::EchoReply reply;
  ASSERT_TRUE(Call(kEcho, "hi", &reply).ok());
  EXPECT_EQ(reply.text(), "hi");
  ASSERT_TRUE(Call(kEcho, "again", &reply).ok());
  EXPECT_EQ(Call(kReject, "x", &reply).error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(CheckHealth("").ok());

  const std::string echo_ok =
      absl::StrCat("flywheel_rpctest_grpc_requests_total{code=\"OK\",method=\"", kEcho, "\"} 2");
  const std::string reject_invalid = absl::StrCat(
      "flywheel_rpctest_grpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"", kReject, "\"} 1");
  const std::string health_ok =
      "flywheel_rpctest_grpc_requests_total{code=\"OK\",method=\"/grpc.health.v1.Health/Check\"} 1";
  ASSERT_TRUE(WaitFor([&] {
    return RenderHas(echo_ok) && RenderHas(reject_invalid) && RenderHas(health_ok);
  })) << metrics_.Render();

  const std::string text = metrics_.Render();
  EXPECT_THAT(
      text, HasSubstr(absl::StrCat("flywheel_rpctest_grpc_request_duration_seconds_count{method=\"",
                                   kEcho, "\"} 2")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "flywheel_rpctest_grpc_request_duration_seconds_bucket{method=\"", kEcho,
                        "\",le=\"0.3\"}")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("flywheel_rpctest_grpc_in_flight_requests{method=\"",
                                           kEcho, "\"} 0")));
  // Message text never becomes a label.
  EXPECT_THAT(text, Not(HasSubstr("again")));
}

TEST_P(ServerTest, UnknownMethodDoesNotBecomeALabel) {
  StartServer({service()});
  ::grpc::ClientContext ctx;
  flywheel::rpctest::EchoRequest req;
  flywheel::rpctest::EchoReply reply;
  const ::grpc::internal::RpcMethod bogus("/flywheel.rpctest.TestService/Bogus12345",
                                          ::grpc::internal::RpcMethod::NORMAL_RPC);
  ::grpc::Status st = ::grpc::internal::BlockingUnaryCall<
      flywheel::rpctest::EchoRequest, flywheel::rpctest::EchoReply, google::protobuf::MessageLite,
      google::protobuf::MessageLite>(channel_.get(), bogus, &ctx, req, &reply);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNIMPLEMENTED);
  ASSERT_TRUE(Call(kEcho, "after", &reply).ok());
  ASSERT_TRUE(WaitFor([&] { return RenderHas(kEcho); }));
  EXPECT_THAT(metrics_.Render(), Not(HasSubstr("Bogus12345")));
}

TEST_P(ServerTest, BadRequestDetailsReachTheClient) {
  StartServer({service()});
  flywheel::rpctest::EchoReply reply;
  ::grpc::Status st = Call(kReject, "x", &reply);
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(st),
              ElementsAre(FieldViolation{"brief.title", "is required"},
                          FieldViolation{"brief.due_date", "must be in the future"}));
  absl::Status back = FromGrpcStatus(st);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(back).size(), 2u);
}

// Asks grpc.reflection.v1alpha questions on one stream, as grpcurl does, with
// messages built from the descriptors libgrpc++_reflection registers: Debian
// ships no header for the reflection stub, and a copy of reflection.proto
// under its own names would clash with those descriptors in the pool.
class ReflectionClient {
 public:
  ReflectionClient()
      : pool_(google::protobuf::DescriptorPool::generated_pool()),
        request_type_(
            pool_->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest")),
        response_type_(
            pool_->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse")),
        factory_(pool_) {}

  bool ready() const { return request_type_ != nullptr && response_type_ != nullptr; }

  // One request per (field of ServerReflectionRequest, value), in order; one
  // response each, or the call's error.
  absl::StatusOr<std::vector<std::unique_ptr<google::protobuf::Message>>> Ask(
      ::grpc::Channel& channel, const std::vector<std::pair<std::string, std::string>>& questions) {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const ::grpc::internal::RpcMethod method(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ::grpc::internal::RpcMethod::BIDI_STREAMING);
    std::unique_ptr<
        ::grpc::ClientReaderWriter<google::protobuf::Message, google::protobuf::Message>>
        stream(::grpc::internal::ClientReaderWriterFactory<
               google::protobuf::Message, google::protobuf::Message>::Create(&channel, method,
                                                                             &ctx));
    std::vector<std::unique_ptr<google::protobuf::Message>> answers;
    for (const auto& [field, value] : questions) {
      std::unique_ptr<google::protobuf::Message> req(New(request_type_));
      req->GetReflection()->SetString(req.get(), request_type_->FindFieldByName(field), value);
      if (!stream->Write(*req)) break;
      answers.push_back(New(response_type_));
      if (!stream->Read(answers.back().get())) break;
    }
    stream->WritesDone();
    ::grpc::Status st = stream->Finish();
    if (!st.ok()) return FromGrpcStatus(st);
    if (answers.size() != questions.size()) return absl::InternalError("stream ended early");
    return answers;
  }

 private:
  std::unique_ptr<google::protobuf::Message> New(const google::protobuf::Descriptor* type) {
    return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(type)->New());
  }

  const google::protobuf::DescriptorPool* pool_;
  const google::protobuf::Descriptor* request_type_;
  const google::protobuf::Descriptor* response_type_;
  google::protobuf::DynamicMessageFactory factory_;
};

// The sub-message `name` of `message`; fails the test when it is not set.
const google::protobuf::Message* SubMessage(const google::protobuf::Message& message,
                                            const std::string& name) {
  const google::protobuf::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  EXPECT_NE(field, nullptr) << name;
  if (field == nullptr || !message.GetReflection()->HasField(message, field)) {
    ADD_FAILURE() << "no " << name << " in " << message.DebugString();
    return nullptr;
  }
  return &message.GetReflection()->GetMessage(message, field);
}

std::vector<std::string> ListedServices(const google::protobuf::Message& response) {
  std::vector<std::string> names;
  const google::protobuf::Message* list = SubMessage(response, "list_services_response");
  if (list == nullptr) return names;
  const google::protobuf::FieldDescriptor* service_field =
      list->GetDescriptor()->FindFieldByName("service");
  for (int i = 0; i < list->GetReflection()->FieldSize(*list, service_field); ++i) {
    const google::protobuf::Message& entry =
        list->GetReflection()->GetRepeatedMessage(*list, service_field, i);
    names.push_back(
        entry.GetReflection()->GetString(entry, entry.GetDescriptor()->FindFieldByName("name")));
  }
  return names;
}

TEST_P(ServerTest, ReflectionListsServices) {
  StartServer({service()});
  ReflectionClient reflection;
  ASSERT_TRUE(reflection.ready());
  auto answers = reflection.Ask(*channel_, {{"list_services", "*"}});
  ASSERT_TRUE(answers.ok()) << answers.status();
  const std::vector<std::string> names = ListedServices(*(*answers)[0]);
  EXPECT_THAT(names, Contains("flywheel.rpctest.TestService"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(names, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

// What `grpcurl -plaintext ADDR grpc.health.v1.Health/Check` (and
// `describe grpc.health.v1.Health`) asks before calling: the list, then the
// file declaring the service. gRPC's own health service brings no C++
// descriptors, so without ours the second answer is NOT_FOUND.
TEST_P(ServerTest, ReflectionDescribesHealthForCallersWithoutTheProto) {
  StartServer({});
  ReflectionClient reflection;
  ASSERT_TRUE(reflection.ready());
  auto answers = reflection.Ask(
      *channel_, {{"list_services", "*"}, {"file_containing_symbol", "grpc.health.v1.Health"}});
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_THAT(ListedServices(*(*answers)[0]), Contains("grpc.health.v1.Health"));

  const google::protobuf::Message* files = SubMessage(*(*answers)[1], "file_descriptor_response");
  ASSERT_NE(files, nullptr);
  const google::protobuf::FieldDescriptor* bytes_field =
      files->GetDescriptor()->FindFieldByName("file_descriptor_proto");
  std::vector<std::string> methods;
  for (int i = 0; i < files->GetReflection()->FieldSize(*files, bytes_field); ++i) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(
        file.ParseFromString(files->GetReflection()->GetRepeatedString(*files, bytes_field, i)));
    if (file.package() != "grpc.health.v1") continue;
    for (const auto& declared : file.service()) {
      if (declared.name() != "Health") continue;
      for (const auto& method : declared.method()) {
        methods.push_back(method.name() + "(" + method.input_type() + ")");
      }
    }
  }
  EXPECT_THAT(methods, Contains("Check(.grpc.health.v1.HealthCheckRequest)"));
}

TEST_P(ServerTest, DrainLetsInFlightCallFinishWhileHealthSaysNotServing) {
  StartServer({service()});

  auto held = std::async(std::launch::async, [&] {
    flywheel::rpctest::EchoReply reply;
    ::grpc::Status st = Call(kHold, "held", &reply);
    return std::make_pair(st.error_code(), reply.text());
  });
  gate().AwaitEntered();
  EXPECT_EQ(server_->in_flight(), 1);

  auto shutdown = std::async(std::launch::async, [&] { server_->Shutdown(); });

  ASSERT_TRUE(WaitFor([&] {
    auto status = CheckHealth("");
    return status.ok() && *status == HealthCheckResponse::NOT_SERVING;
  })) << "health never turned NOT_SERVING during the drain";
  auto per_service = CheckHealth("flywheel.rpctest.TestService");
  ASSERT_TRUE(per_service.ok()) << per_service.status();
  EXPECT_EQ(*per_service, HealthCheckResponse::NOT_SERVING);

  // The call is still running and the drain still waiting on it.
  EXPECT_EQ(held.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);

  gate().Release();
  auto [code, text] = held.get();
  EXPECT_EQ(code, ::grpc::StatusCode::OK);
  EXPECT_EQ(text, "held");
  ASSERT_EQ(shutdown.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(CheckHealth("").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(metrics_.Render(),
              HasSubstr(absl::StrCat("flywheel_rpctest_grpc_requests_total{code=\"OK\",method=\"",
                                     kHold, "\"} 1")));
}

TEST_P(ServerTest, DrainCancelsCallsStillRunningAtTheDeadline) {
  ServerOptions options = TestOptions();
  options.drain_timeout = absl::Milliseconds(200);
  StartServer({service()}, options);

  auto held = std::async(std::launch::async, [&] {
    flywheel::rpctest::EchoReply reply;
    return Call(kHold, "never released", &reply).error_code();
  });
  gate().AwaitEntered();
  const absl::Time start = absl::Now();
  server_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_NE(held.get(), ::grpc::StatusCode::OK);
  EXPECT_TRUE(WaitFor([&] { return server_->in_flight() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Apis, ServerTest, ::testing::Values(Api::kSync, Api::kCallback),
                         [](const ::testing::TestParamInfo<Api>& info) {
                           return info.param == Api::kSync ? "Sync" : "Callback";
                         });

TEST(ServerStartTest, RefusesBadServiceName) {
  metrics::Metrics metrics;
  ServerOptions options = TestOptions();
  options.service_name = "Bad-Name";
  auto started = Server::Start(options, {}, metrics);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(started.status().message()), HasSubstr("Bad-Name"));
}

TEST(ServerStartTest, RefusesBadOptions) {
  metrics::Metrics metrics;
  ServerOptions options = TestOptions();
  options.max_message_bytes = 0;
  EXPECT_EQ(Server::Start(options, {}, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = TestOptions();
  options.drain_timeout = absl::Seconds(-1);
  EXPECT_EQ(Server::Start(options, {}, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Server::Start(TestOptions(), {nullptr}, metrics).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerStartTest, PortInUseIsUnavailable) {
  metrics::Metrics metrics;
  auto first = Server::Start(TestOptions(), {}, metrics);
  ASSERT_TRUE(first.ok()) << first.status();
  ServerOptions options = TestOptions();
  options.address = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = Server::Start(options, {}, metrics);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST(ServerStartTest, UnparsableAddressIsUnavailable) {
  metrics::Metrics metrics;
  ServerOptions options = TestOptions();
  options.address = "no port here";
  EXPECT_EQ(Server::Start(options, {}, metrics).status().code(), absl::StatusCode::kUnavailable);
}

// A callback service taking two calls at once: two held calls, then a
// refusal.
TEST(CallbackServerTest, CallsBeyondTheLimitAreUnavailableAndEchoStillAnswers) {
  metrics::Metrics metrics;
  CallbackBackend backend({.max_in_flight = 2});
  auto started = Server::Start(TestOptions(), {backend.service()}, metrics);
  ASSERT_TRUE(started.ok()) << started.status();
  std::shared_ptr<::grpc::Channel> channel = ::grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*started)->port()), ::grpc::InsecureChannelCredentials());
  auto stub = flywheel::rpctest::TestService::NewStub(channel);
  auto call = [&](bool hold) {
    ::grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    flywheel::rpctest::EchoRequest req;
    req.set_text("t");
    flywheel::rpctest::EchoReply reply;
    return (hold ? stub->Hold(&ctx, req, &reply) : stub->Reject(&ctx, req, &reply)).error_code();
  };

  auto first = std::async(std::launch::async, call, true);
  auto second = std::async(std::launch::async, call, true);
  backend.gate().AwaitEntered(2);
  EXPECT_EQ(call(false), ::grpc::StatusCode::UNAVAILABLE);

  // Echo answers on the gRPC thread, not as a coroutine: not held up.
  ::grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  flywheel::rpctest::EchoRequest req;
  req.set_text("free");
  flywheel::rpctest::EchoReply reply;
  ASSERT_TRUE(stub->Echo(&ctx, req, &reply).ok());
  EXPECT_EQ(reply.text(), "free");

  backend.gate().Release();
  EXPECT_EQ(first.get(), ::grpc::StatusCode::OK);
  EXPECT_EQ(second.get(), ::grpc::StatusCode::OK);
  EXPECT_EQ(call(false), ::grpc::StatusCode::INVALID_ARGUMENT) << "room again once they finished";
  ASSERT_TRUE(WaitFor([&] {
    return metrics.Render().find(
               absl::StrCat("flywheel_rpctest_grpc_requests_total{code=\"UNAVAILABLE\",method=\"",
                            kReject, "\"} 1")) != std::string::npos;
  })) << metrics.Render();
}

}  // namespace
}  // namespace flywheel::rpc
