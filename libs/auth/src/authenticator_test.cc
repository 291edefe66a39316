#include "flywheel/auth/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flywheel/auth/testing/test_issuer.h"
#include "flywheel/core/id.h"

namespace flywheel::auth {
namespace {

using ::testing::HasSubstr;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("flywheel-auth-" + NewRandomId());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The auth settings of a config made of `yaml`; the config's first problem
  // in `error`.
  AuthSettings Read(const std::string& yaml, const std::string& listen, std::string* error) {
    auto config = config::Config::FromString(yaml, "test.yaml", {});
    EXPECT_TRUE(config.ok()) << config.status();
    AuthSettings s = ReadAuthSettings(*config, listen);
    absl::Status st = config->Check();
    *error = st.ok() ? "" : std::string(st.message());
    return s;
  }

  std::unique_ptr<Authenticator> Make(const std::string& rate_limits = "") {
    std::string error;
    AuthSettings s =
        Read(issuer_.WriteConfig(dir_, {"acme", "demo"}, rate_limits), "0.0.0.0:8080", &error);
    EXPECT_EQ(error, "");
    auto a = Authenticator::Create(s, SystemClock::Instance());
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? *std::move(a) : nullptr;
  }

  std::filesystem::path dir_;
  testing::TestIssuer issuer_;
};

TEST_F(AuthenticatorTest, NoAuthConfiguredDoesNotStart) {
  std::string error;
  Read("{}", "0.0.0.0:8080", &error);
  EXPECT_THAT(error, HasSubstr("auth.key_file: required but not set"));
}

TEST_F(AuthenticatorTest, DevModeIsRefusedUnlessServingOnLoopback) {
  std::string error;
  Read("auth:\n  dev_mode: true\n", "0.0.0.0:8080", &error);
  EXPECT_THAT(error, HasSubstr("auth.dev_mode: dev mode is only allowed while grpc.listen is a "
                               "loopback address"));
  AuthSettings s = Read("auth:\n  dev_mode: true\n", "127.0.0.1:8081", &error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(s.dev_mode);
  EXPECT_TRUE(IsLoopback("[::1]:0"));
  EXPECT_TRUE(IsLoopback("localhost:1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1:80"));
  EXPECT_FALSE(IsLoopback(":8080"));
}

TEST_F(AuthenticatorTest, DevModeGivesEveryCallTheDevPrincipal) {
  auto a = Authenticator::Create({.dev_mode = true}, SystemClock::Instance());
  ASSERT_TRUE(a.ok()) << a.status();
  auto p = (*a)->Authenticate(std::nullopt);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->dev);
  EXPECT_FALSE((*a)->Limit(*p));
}

TEST_F(AuthenticatorTest, ABearerTokenOfAServedTenantIsTaken) {
  auto a = Make();
  auto p = a->Authenticate("Bearer " + issuer_.Mint());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant, "acme");
  EXPECT_TRUE(a->Authenticate("bearer " + issuer_.Mint()).ok());
}

TEST_F(AuthenticatorTest, MissingOrNonBearerHeadersAreUnauthenticated) {
  auto a = Make();
  EXPECT_EQ(a->Authenticate(std::nullopt).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(a->Authenticate("Basic bWFyaWE6cHc=").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(a->Authenticate("Bearer ").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, ATokenForATenantNotServedIsPermissionDenied) {
  auto a = Make();
  testing::Claims c;
  c.tenant = "globex";
  auto p = a->Authenticate("Bearer " + issuer_.Mint(c));
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(p.status().message(), HasSubstr("'globex' is not served here"));
}

TEST_F(AuthenticatorTest, KeysAndPolicyReloadAndABadFileKeepsTheRunningOne) {
  auto a = Make();
  testing::TestIssuer next;
  ASSERT_FALSE(a->Authenticate("Bearer " + next.Mint()).ok());
  next.WriteConfig(dir_, {"acme", "globex"}, "  per_caller: {per_second: 1, burst: 1}\n");
  ASSERT_TRUE(a->ReloadKeys(a->settings().key_file).ok());
  ASSERT_TRUE(a->ReloadPolicy(a->settings().policy_file).ok());
  testing::Claims globex;
  globex.tenant = "globex";
  auto p = a->Authenticate("Bearer " + next.Mint(globex));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(a->Limit(*p));
  EXPECT_TRUE(a->Limit(*p));

  std::ofstream(a->settings().key_file) << "garbage";
  EXPECT_FALSE(a->ReloadKeys(a->settings().key_file).ok());
  EXPECT_TRUE(a->Authenticate("Bearer " + next.Mint()).ok());
}

TEST_F(AuthenticatorTest, EventProducersAreCheckedAgainstThePolicy) {
  auto a = Make();
  EXPECT_TRUE(a->CheckEventProducer("//flywheel/intake", "acme").ok());
  EXPECT_EQ(a->CheckEventProducer("//crm", "acme").code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace flywheel::auth
