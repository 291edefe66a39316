// Callers against the real intake and routing (issue 9): every RPC of both
// services refuses each bad token and each crossing from one tenant to
// another, a rate-limited caller is told when to retry, and no token ever
// shows in a log line, an error or /metrics.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <gtest/gtest.h>

#include "flywheel/auth/testing/test_issuer.h"
#include "flywheel/core/retry_delay.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/status.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "flywheel/routing/v1/routing_service.grpc.pb.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "intake_app.h"
#include "routing_app.h"

namespace flywheel {
namespace {

using auth::testing::Bearer;
using auth::testing::Claims;
using ::testing::HasSubstr;
using ::testing::Not;

struct Target {
  const char* service;  // full protobuf name
  runtime::testing::StartFunction start;
};

runtime::testing::StartFunction Intake() { return intake::StartIntake; }
runtime::testing::StartFunction Routing() {
  return [](const runtime::CommonSettings& s, config::Config& c,
            metrics::Metrics& m) -> absl::StatusOr<std::unique_ptr<runtime::App>> {
    auto app = routing::StartRouting(s, c, m);
    if (!app.ok()) return app.status();
    return std::unique_ptr<runtime::App>(std::move(*app));
  };
}

class CallerTest : public runtime::testing::ServiceFixture,
                   public ::testing::WithParamInterface<bool> {
 protected:
  CallerTest() : ServiceFixture(GetParam() ? Routing() : Intake()) {
    if (GetParam()) {
      CreateTopicsBeforeStart(
          {{.name = events::kRequestsTopic, .partitions = events::kStreamPartitions}});
    }
  }

  const google::protobuf::ServiceDescriptor& Service() const {
    return *google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        GetParam() ? "flywheel.routing.v1.RoutingService" : "flywheel.intake.v1.IntakeService");
  }

  // A request for `method` naming `tenant` wherever its message (or the
  // resource it carries) has a tenant_id.
  std::unique_ptr<google::protobuf::Message> RequestFor(
      const google::protobuf::MethodDescriptor& method, const std::string& tenant) {
    std::unique_ptr<google::protobuf::Message> m(factory_.GetPrototype(method.input_type())->New());
    const auto* reflection = m->GetReflection();
    const auto* d = m->GetDescriptor();
    if (const auto* f = d->FindFieldByName("tenant_id")) reflection->SetString(m.get(), f, tenant);
    if (const auto* f = d->FindFieldByName("request_id")) {
      reflection->SetString(m.get(), f, "req-" + tenant);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE || f->is_repeated()) {
        continue;
      }
      if (const auto* inner = f->message_type()->FindFieldByName("tenant_id")) {
        google::protobuf::Message* sub = reflection->MutableMessage(m.get(), f, &factory_);
        sub->GetReflection()->SetString(sub, inner, tenant);
      }
    }
    return m;
  }

  ::grpc::Status Call(const google::protobuf::MethodDescriptor& method,
                      const google::protobuf::Message& request,
                      const std::optional<std::string>& authorization) {
    ::grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (authorization) context.AddMetadata("authorization", *authorization);
    const std::string path = "/" + method.service()->full_name() + "/" + method.name();
    const ::grpc::internal::RpcMethod rpc(path.c_str(), ::grpc::internal::RpcMethod::NORMAL_RPC);
    std::unique_ptr<google::protobuf::Message> response(
        factory_.GetPrototype(method.output_type())->New());
    return ::grpc::internal::BlockingUnaryCall<google::protobuf::Message, google::protobuf::Message,
                                               google::protobuf::MessageLite,
                                               google::protobuf::MessageLite>(
        channel().get(), rpc, &context, request, response.get());
  }

  google::protobuf::DynamicMessageFactory factory_;
};

TEST_P(CallerTest, EveryRpcRefusesEachBadToken) {
  const auth::testing::TestIssuer& issuer = auth().issuer();
  Claims expired;
  expired.expires = absl::Now() - absl::Hours(1);
  Claims early;
  early.not_before = absl::Now() + absl::Hours(1);
  Claims audience;
  audience.audience = "another-api";
  auth::testing::TestIssuer stranger;
  const std::vector<std::pair<std::string, std::optional<std::string>>> bad = {
      {"missing", std::nullopt},
      {"expired", Bearer(issuer.Mint(expired))},
      {"not yet valid", Bearer(issuer.Mint(early))},
      {"wrongly signed", Bearer(stranger.Mint())},
      {"wrong audience", Bearer(issuer.Mint(audience))},
      {"alg none", Bearer(issuer.MintUnsigned())},
      {"hs256 with the public key", Bearer(issuer.MintHs256WithPublicKey())},
      {"huge", Bearer(std::string(20'000, 'a'))},
  };
  for (int i = 0; i < Service().method_count(); ++i) {
    const auto& method = *Service().method(i);
    auto request = RequestFor(method, "acme");
    for (const auto& [name, header] : bad) {
      EXPECT_EQ(Call(method, *request, header).error_code(), ::grpc::StatusCode::UNAUTHENTICATED)
          << method.name() << " with a token that is " << name;
    }
  }
}

TEST_P(CallerTest, EveryRpcRefusesACrossingBetweenTenantsAndAMissingRole) {
  Claims unknown_tenant;
  unknown_tenant.tenant = "globex";
  const std::string no_roles = auth().Token("acme", {});
  for (int i = 0; i < Service().method_count(); ++i) {
    const auto& method = *Service().method(i);
    // acme's most powerful caller naming demo.
    auto crossing = RequestFor(method, "demo");
    ::grpc::Status st = Call(method, *crossing, Bearer(auth().Token("acme")));
    EXPECT_EQ(st.error_code(), ::grpc::StatusCode::PERMISSION_DENIED)
        << method.name() << ": " << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("acts for tenant 'acme', not 'demo'"));
    auto own = RequestFor(method, "acme");
    EXPECT_EQ(Call(method, *own, Bearer(no_roles)).error_code(),
              ::grpc::StatusCode::PERMISSION_DENIED)
        << method.name();
    EXPECT_EQ(Call(method, *own, Bearer(auth().issuer().Mint(unknown_tenant))).error_code(),
              ::grpc::StatusCode::PERMISSION_DENIED)
        << method.name();
  }
}

TEST_P(CallerTest, TokensNeverShowInLogsErrorsOrMetrics) {
  const std::string good = auth().Token("acme");
  const std::string requester = auth().Token("acme", {"requester"});
  Claims expired;
  expired.expires = absl::Now() - absl::Hours(1);
  const std::string stale = auth().issuer().Mint(expired);
  std::vector<std::string> errors;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < Service().method_count(); ++i) {
    const auto& method = *Service().method(i);
    for (const std::string& token : {good, requester, stale}) {
      auto request = RequestFor(method, "acme");
      errors.push_back(Call(method, *request, Bearer(token)).error_message());
    }
  }
  const std::string logs = ::testing::internal::GetCapturedStderr();
  const std::string exposition = metrics().Render();
  for (const std::string& token : {good, requester, stale}) {
    // The signature is the secret part; the claims would do for a replay.
    for (const std::string& secret :
         {token.substr(token.rfind('.') + 1), token.substr(token.find('.') + 1, 40)}) {
      EXPECT_THAT(logs, Not(HasSubstr(secret)));
      EXPECT_THAT(exposition, Not(HasSubstr(secret)));
      for (const std::string& e : errors) EXPECT_THAT(e, Not(HasSubstr(secret)));
    }
  }
  EXPECT_THAT(exposition, Not(HasSubstr("ops-console")));
}

INSTANTIATE_TEST_SUITE_P(Services, CallerTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Routing" : "Intake"; });

class RateLimitTest : public runtime::testing::ServiceFixture {
 protected:
  RateLimitTest() : ServiceFixture(intake::StartIntake) {
    mutable_auth().SetRateLimits("  per_caller: {per_second: 1, burst: 2}\n");
  }
};

TEST_F(RateLimitTest, ARateLimitedCallerIsToldWhenToRetry) {
  auto stub = intake::v1::IntakeService::NewStub(channel());
  intake::v1::ListRequestsRequest list;
  list.set_tenant_id("acme");
  intake::v1::ListRequestsResponse listed;
  const std::string maria = auth().Token("acme", {"requester"}, "maria");
  ASSERT_TRUE(stub->ListRequests(auth().Call(maria).get(), list, &listed).ok());
  ASSERT_TRUE(stub->ListRequests(auth().Call(maria).get(), list, &listed).ok());
  ::grpc::Status st = stub->ListRequests(auth().Call(maria).get(), list, &listed);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  std::optional<absl::Duration> delay = rpc::RetryDelay(st);
  ASSERT_TRUE(delay);
  EXPECT_GT(*delay, absl::ZeroDuration());
  EXPECT_LE(*delay, absl::Seconds(1));
  // Another caller of the tenant is not held back.
  EXPECT_TRUE(stub->ListRequests(auth().Call(auth().Token("acme", {"requester"}, "li")).get(), list,
                                 &listed)
                  .ok());
  EXPECT_THAT(metrics().Render(),
              HasSubstr("flywheel_intake_rate_limited_total{method=\"ListRequests\","
                        "scope=\"caller\"} 1"));
  EXPECT_THAT(metrics().Render(), HasSubstr("flywheel_intake_auth_dev_mode 0"));
  // After the delay, maria is served again.
  absl::SleepFor(*delay);
  EXPECT_TRUE(stub->ListRequests(auth().Call(maria).get(), list, &listed).ok());
}

}  // namespace
}  // namespace flywheel
