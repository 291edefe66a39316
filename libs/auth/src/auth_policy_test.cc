#include "flywheel/auth/auth_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace flywheel::auth {
namespace {

using ::testing::HasSubstr;

TEST(AuthPolicyTest, ReadsTenantsLimitsAndProducers) {
  auto p = ParseAuthPolicy(R"(
tenants: [acme, demo]
rate_limits:
  per_tenant: {per_second: 200, burst: 400}
  per_caller: {per_second: 20, burst: 40}
  tenants:
    acme: {per_second: 500, burst: 1000}
event_producers:
  "//crm.example.com": [acme]
  "//forms": ["*"]
)",
                           "auth.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->Serves("acme"));
  EXPECT_FALSE(p->Serves("globex"));
  EXPECT_EQ(p->limits.per_tenant, (BucketLimit{200, 400}));
  EXPECT_EQ(p->limits.per_caller, (BucketLimit{20, 40}));
  EXPECT_EQ(p->limits.tenant_overrides.at("acme"), (BucketLimit{500, 1000}));

  EXPECT_TRUE(p->CheckProducer("//crm.example.com", "acme").ok());
  EXPECT_EQ(p->CheckProducer("//crm.example.com", "demo").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(p->CheckProducer("//forms", "demo").ok());
  EXPECT_TRUE(p->CheckProducer("//flywheel/intake", "demo").ok());
  EXPECT_EQ(p->CheckProducer("//flywheel/intake", "globex").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p->CheckProducer("//unknown", "acme").code(), absl::StatusCode::kPermissionDenied);
}

TEST(AuthPolicyTest, EveryProblemIsReportedWithItsLine) {
  auto p = ParseAuthPolicy(R"(tenants: [acme, acme]
rate_limits:
  per_caller: {per_second: 0, burst: 4}
  tenants:
    globex: {per_second: 1, burst: 1}
event_producers:
  "//crm": [globex]
limits: {}
)",
                           "auth.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("5 problems"));
  EXPECT_THAT(p.status().message(), HasSubstr("auth.yaml:1: tenants: duplicate tenant"));
  EXPECT_THAT(p.status().message(), HasSubstr("auth.yaml:3: rate_limits.per_caller.per_second"));
  EXPECT_THAT(p.status().message(), HasSubstr("auth.yaml:5: rate_limits.tenants.globex"));
  EXPECT_THAT(p.status().message(), HasSubstr("auth.yaml:7: event_producers.//crm"));
  EXPECT_THAT(p.status().message(), HasSubstr("auth.yaml:8: limits: unknown key"));
}

TEST(AuthPolicyTest, UnderMutualTlsAServiceTokenNeedsAServiceCertificate) {
  auto p = ParseAuthPolicy(R"(
tenants: [acme]
service_certificates: [spiffe://flywheel.test/routing, routing.flywheel.test]
)",
                           "auth.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  Principal service{.tenant = "acme", .user_id = "routing", .roles = {Role::kService}};
  // Plaintext or server-only TLS: there is no certificate to hold it to.
  EXPECT_TRUE(p->CheckServiceCertificate(service).ok());
  service.client_certificate = ClientCertificate{{"spiffe://flywheel.test/routing"}};
  EXPECT_TRUE(p->CheckServiceCertificate(service).ok());
  service.client_certificate = ClientCertificate{{"spiffe://x/laptop", "laptop.example.com"}};
  absl::Status st = p->CheckServiceCertificate(service);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(st.message(), HasSubstr("names 'spiffe://x/laptop', 'laptop.example.com'"));
  service.client_certificate = ClientCertificate{};
  EXPECT_THAT(p->CheckServiceCertificate(service).message(), HasSubstr("names nothing"));
  // Anyone else may call from any certificate the CA signed.
  Principal person{.tenant = "acme", .user_id = "maria", .roles = {Role::kRequester}};
  person.client_certificate = ClientCertificate{{"laptop.example.com"}};
  EXPECT_TRUE(p->CheckServiceCertificate(person).ok());
}

TEST(AuthPolicyTest, TenantsAreRequired) { EXPECT_FALSE(ParseAuthPolicy("{}", "auth.yaml").ok()); }

}  // namespace
}  // namespace flywheel::auth
