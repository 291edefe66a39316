// The Guard in front of a real server, with the synchronous and the callback
// API: tokens minted per run by TestIssuer, refusals as a client sees them.
#include "flywheel/grpc/guard.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_join.h"
#include "flywheel/auth/testing/test_issuer.h"
#include "flywheel/core/id.h"
#include "flywheel/grpc/server.h"
#include "flywheel/grpc/status.h"
#include "flywheel/grpc/testing/test_ca.h"
#include "flywheel/grpc/testing/tls_channel.h"
#include "flywheel/metrics/metrics.h"
#include "grpc_test_service.grpc.pb.h"

namespace flywheel::rpc {
namespace {

using auth::Role;
using auth::testing::Bearer;
using auth::testing::Claims;
using ::testing::HasSubstr;
using ::testing::Not;

const auth::RoleTable& Table() {
  static const auth::RoleTable table("flywheel.rpctest.TestService",
                                     {
                                         {"Echo", {Role::kRequester, Role::kService}},
                                         {"Reject", {Role::kOpsAdmin}},
                                         {"Hold", {Role::kOpsAdmin}},
                                     });
  return table;
}

// Echo answers with the caller's tenant and user id, and the names of its
// client certificate under mutual TLS: the principal reaches the handler as
// a value.
std::string Who(const auth::Principal& principal) {
  std::string who = principal.tenant + "/" + principal.user_id;
  if (principal.client_certificate) {
    who += " " + absl::StrJoin(principal.client_certificate->names, ",");
  }
  return who;
}

class SyncService : public rpctest::TestService::Service {
 public:
  explicit SyncService(Guard& guard) : guard_(guard) {}
  ::grpc::Status Echo(::grpc::ServerContext* context, const rpctest::EchoRequest*,
                      rpctest::EchoReply* reply) override {
    auto principal = guard_.Admit(*context, "Echo");
    if (!principal.ok()) return ToGrpcStatus(principal.status());
    reply->set_text(Who(*principal));
    return ::grpc::Status::OK;
  }
  ::grpc::Status Reject(::grpc::ServerContext* context, const rpctest::EchoRequest*,
                        rpctest::EchoReply*) override {
    auto principal = guard_.Admit(*context, "Reject");
    return ToGrpcStatus(principal.status());
  }

 private:
  Guard& guard_;
};

class CallbackService : public rpctest::TestService::CallbackService {
 public:
  explicit CallbackService(Guard& guard) : guard_(guard) {}
  ::grpc::ServerUnaryReactor* Echo(::grpc::CallbackServerContext* context,
                                   const rpctest::EchoRequest*,
                                   rpctest::EchoReply* reply) override {
    ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto principal = guard_.Admit(*context, "Echo");
    if (!principal.ok()) {
      reactor->Finish(ToGrpcStatus(principal.status()));
    } else {
      reply->set_text(Who(*principal));
      reactor->Finish(::grpc::Status::OK);
    }
    return reactor;
  }

 private:
  Guard& guard_;
};

class GuardTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("flywheel-guard-" + NewRandomId());
    std::filesystem::create_directories(dir_);
    Start(issuer_.WriteConfig(dir_, {"acme", "demo"}, "  per_caller: {per_second: 1, burst: 3}\n"));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Now());
    std::filesystem::remove_all(dir_);
  }

  void Start(const std::string& yaml, const std::string& listen = "127.0.0.1:0",
             TlsOptions tls = {}) {
    auto config = config::Config::FromString(yaml, "test.yaml", {});
    ASSERT_TRUE(config.ok()) << config.status();
    auth::AuthSettings settings = auth::ReadAuthSettings(*config, listen);
    ASSERT_TRUE(config->Check().ok()) << config->Check();
    auto authenticator = auth::Authenticator::Create(settings, SystemClock::Instance());
    ASSERT_TRUE(authenticator.ok()) << authenticator.status();
    authenticator_ = *std::move(authenticator);
    auto guard = Guard::Create(*authenticator_, Table(), metrics_, "guardtest");
    ASSERT_TRUE(guard.ok()) << guard.status();
    guard_ = *std::move(guard);
    if (GetParam()) {
      service_ = std::make_unique<CallbackService>(*guard_);
    } else {
      service_ = std::make_unique<SyncService>(*guard_);
    }
    auto server = Server::Start(
        {.address = "127.0.0.1:0", .service_name = "guardtest", .tls = std::move(tls)},
        {service_.get()}, metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = rpctest::TestService::NewStub(::grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), ::grpc::InsecureChannelCredentials()));
  }

  // Restarts the server with mutual TLS and an auth policy naming the
  // routing service's certificates; connect with `ConnectWith`.
  void RestartWithMutualTls() {
    server_->Shutdown(absl::Now());
    server_.reset();
    const testing::IssuedCertificate server = ca_.IssueServer();
    testing::ReplaceFile((dir_ / "server.pem").string(), server.cert_pem);
    testing::ReplaceFile((dir_ / "server.key").string(), server.key_pem);
    testing::ReplaceFile((dir_ / "ca.pem").string(), ca_.cert_pem());
    Start(issuer_.WriteConfig(dir_, {"acme", "demo"}, "", /*pem=*/false,
                              "service_certificates: [spiffe://flywheel.test/routing, routing]\n"),
          "127.0.0.1:0",
          {.cert_file = (dir_ / "server.pem").string(),
           .key_file = (dir_ / "server.key").string(),
           .client_ca_file = (dir_ / "ca.pem").string()});
  }
  void ConnectWith(const testing::IssuedCertificate& client) {
    stub_ = rpctest::TestService::NewStub(
        testing::TlsChannel(server_->port(), ca_.cert_pem(), &client));
  }
  static std::string ServiceToken(const auth::testing::TestIssuer& issuer) {
    Claims claims;
    claims.subject = "routing";
    claims.roles = {"service"};
    return Bearer(issuer.Mint(claims));
  }

  ::grpc::Status Echo(const std::optional<std::string>& authorization,
                      rpctest::EchoReply* reply = nullptr) {
    ::grpc::ClientContext context;
    if (authorization) context.AddMetadata("authorization", *authorization);
    rpctest::EchoRequest request;
    rpctest::EchoReply ignored;
    return stub_->Echo(&context, request, reply ? reply : &ignored);
  }

  std::filesystem::path dir_;
  auth::testing::TestIssuer issuer_;
  testing::TestCa ca_;
  metrics::Metrics metrics_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<::grpc::Service> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<rpctest::TestService::Stub> stub_;
};

TEST_P(GuardTest, AValidTokenReachesTheHandlerAsAPrincipal) {
  rpctest::EchoReply reply;
  ::grpc::Status st = Echo(Bearer(issuer_.Mint()), &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.text(), "acme/maria");
}

TEST_P(GuardTest, EveryBadTokenIsUnauthenticated) {
  Claims expired;
  expired.expires = absl::Now() - absl::Hours(1);
  Claims early;
  early.not_before = absl::Now() + absl::Hours(1);
  Claims audience;
  audience.audience = "another-api";
  auth::testing::TestIssuer stranger;
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"missing", std::nullopt},
      {"not bearer", "Basic bWFyaWE6c2VjcmV0"},
      {"expired", Bearer(issuer_.Mint(expired))},
      {"not yet valid", Bearer(issuer_.Mint(early))},
      {"wrong audience", Bearer(issuer_.Mint(audience))},
      {"wrongly signed", Bearer(stranger.Mint())},
      {"alg none", Bearer(issuer_.MintUnsigned())},
      {"hs256 with the public key", Bearer(issuer_.MintHs256WithPublicKey())},
      {"huge", Bearer(std::string(20'000, 'a'))},
  };
  for (const auto& [name, header] : cases) {
    ::grpc::Status st = Echo(header);
    EXPECT_EQ(st.error_code(), ::grpc::StatusCode::UNAUTHENTICATED)
        << name << ": " << st.error_message();
  }
}

TEST_P(GuardTest, AHeaderBeyondGrpcsLimitIsRefusedBeforeAnyHandler) {
  ::grpc::Status st = Echo(Bearer(std::string(200'000, 'a')));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_code(), ::grpc::StatusCode::OK);
}

TEST_P(GuardTest, TwoAuthorizationHeadersAreRefused) {
  ::grpc::ClientContext context;
  context.AddMetadata("authorization", Bearer(issuer_.Mint()));
  context.AddMetadata("authorization", Bearer(issuer_.Mint()));
  rpctest::EchoRequest request;
  rpctest::EchoReply reply;
  EXPECT_EQ(stub_->Echo(&context, request, &reply).error_code(),
            ::grpc::StatusCode::UNAUTHENTICATED);
}

TEST_P(GuardTest, AnUnknownTenantOrAMissingRoleIsPermissionDenied) {
  Claims globex;
  globex.tenant = "globex";
  EXPECT_EQ(Echo(Bearer(issuer_.Mint(globex))).error_code(), ::grpc::StatusCode::PERMISSION_DENIED);
  Claims creator;
  creator.roles = {"creator"};
  ::grpc::Status st = Echo(Bearer(issuer_.Mint(creator)));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("Echo needs one of the roles requester, service"));
}

TEST_P(GuardTest, ARateLimitedCallerIsToldWhenToRetry) {
  const std::string token = Bearer(issuer_.Mint());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Echo(token).ok());
  ::grpc::Status st = Echo(token);
  ASSERT_EQ(st.error_code(), ::grpc::StatusCode::RESOURCE_EXHAUSTED);
  std::optional<absl::Duration> delay = RetryDelay(st);
  ASSERT_TRUE(delay);
  EXPECT_GT(*delay, absl::ZeroDuration());
  EXPECT_LE(*delay, absl::Seconds(1));
  // The count has no ids: method and whose limit only.
  const std::string exposition = metrics_.Render();
  EXPECT_THAT(exposition, HasSubstr("flywheel_guardtest_rate_limited_total{method=\"Echo\","
                                    "scope=\"caller\"} 1"));
  EXPECT_THAT(exposition, Not(HasSubstr("maria")));
  EXPECT_THAT(exposition, Not(HasSubstr("acme")));
}

TEST_P(GuardTest, RefusalsAreCountedAndTokensNeverShowInMetricsOrErrors) {
  const std::string token = issuer_.Mint();
  Claims creator;
  creator.roles = {"creator"};
  const std::string creator_token = issuer_.Mint(creator);
  ::grpc::Status st = Echo(Bearer(creator_token));
  EXPECT_THAT(st.error_message(), Not(HasSubstr(creator_token.substr(creator_token.rfind('.')))));
  Echo(std::nullopt);
  const std::string exposition = metrics_.Render();
  EXPECT_THAT(exposition, HasSubstr("flywheel_guardtest_auth_refusals_total{code=\"PERMISSION_"
                                    "DENIED\",method=\"Echo\"} 1"));
  EXPECT_THAT(exposition, HasSubstr("flywheel_guardtest_auth_refusals_total{code="
                                    "\"UNAUTHENTICATED\",method=\"Echo\"} 1"));
  EXPECT_THAT(exposition, HasSubstr("flywheel_guardtest_auth_dev_mode 0"));
  for (const std::string& secret : {token, creator_token}) {
    EXPECT_THAT(exposition, Not(HasSubstr(secret.substr(secret.rfind('.') + 1))));
  }
}

TEST_P(GuardTest, DevModeTakesCallsWithoutATokenAndSaysSo) {
  server_->Shutdown(absl::Now());
  server_.reset();
  Start("auth:\n  dev_mode: true\n");
  rpctest::EchoReply reply;
  ASSERT_TRUE(Echo(std::nullopt, &reply).ok());
  EXPECT_EQ(reply.text(), "/dev");
  EXPECT_THAT(metrics_.Render(), HasSubstr("flywheel_guardtest_auth_dev_mode 1"));
}

TEST_P(GuardTest, InPlaintextAServiceTokenComesWithoutACertificate) {
  rpctest::EchoReply reply;
  ASSERT_TRUE(Echo(ServiceToken(issuer_), &reply).ok());
  EXPECT_EQ(reply.text(), "acme/routing");
}

// The names are the certificate's subject alternative names, or its common
// name when it has none.
TEST_P(GuardTest, UnderMutualTlsTheClientCertificatesNamesReachThePrincipal) {
  RestartWithMutualTls();
  for (const auto& [alt_names, expected] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"URI:spiffe://flywheel.test/routing", "DNS:routing.flywheel.test"},
            "acme/routing spiffe://flywheel.test/routing,routing.flywheel.test"},
           {{}, "acme/routing routing"}}) {
    ConnectWith(ca_.Issue("routing", alt_names));
    rpctest::EchoReply reply;
    ::grpc::Status st = Echo(ServiceToken(issuer_), &reply);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(reply.text(), expected);
  }
}

TEST_P(GuardTest, UnderMutualTlsAServiceTokenNeedsTheCertificateOfAService) {
  RestartWithMutualTls();
  ConnectWith(ca_.Issue("laptop", {"DNS:laptop.flywheel.test"}));
  ::grpc::Status st = Echo(ServiceToken(issuer_));
  EXPECT_EQ(st.error_code(), ::grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(),
              HasSubstr("a token with the service role must come with a client certificate of a "
                        "service (auth policy service_certificates); this one names "
                        "'laptop.flywheel.test'"));
  // The same connection with a person's token is served.
  rpctest::EchoReply reply;
  st = Echo(Bearer(issuer_.Mint()), &reply);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(reply.text(), "acme/maria laptop.flywheel.test");
  EXPECT_THAT(metrics_.Render(),
              HasSubstr("flywheel_guardtest_auth_refusals_total{code=\"PERMISSION_"
                        "DENIED\",method=\"Echo\"} 1"));
}

INSTANTIATE_TEST_SUITE_P(Api, GuardTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Callback" : "Sync"; });

TEST(GuardCreateTest, ATableMissingAMethodIsRefused) {
  auto authenticator = auth::Authenticator::Create({.dev_mode = true}, SystemClock::Instance());
  ASSERT_TRUE(authenticator.ok());
  metrics::Metrics metrics;
  static const auth::RoleTable partial("flywheel.rpctest.TestService",
                                       {{"Echo", {Role::kRequester}}});
  auto guard = Guard::Create(**authenticator, partial, metrics, "guardtest");
  EXPECT_EQ(guard.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(guard.status().message(), HasSubstr("no roles for Reject, Hold"));
  static const auth::RoleTable unknown("flywheel.rpctest.NoSuchService", {});
  EXPECT_FALSE(Guard::Create(**authenticator, unknown, metrics, "guardtest").ok());
}

}  // namespace
}  // namespace flywheel::rpc
