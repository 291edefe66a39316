#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/auth/testing/test_issuer.h"

namespace grpc {
class ClientContext;
}

namespace flywheel::runtime::testing {

/// Auth for a service a test starts: a `TestIssuer` (a key pair made for
/// this run), its JWKS and an auth policy serving `acme`, `demo` and
/// `initech` (and letting `//tests/crm` publish for them) in a temporary
/// directory removed at destruction, the `auth:`
/// config naming them, and client contexts carrying a token.
class TestAuth {
 public:
  /// `rate_limits_yaml`: the auth policy's `rate_limits:` body, if any.
  explicit TestAuth(const std::string& rate_limits_yaml = "");
  ~TestAuth();
  TestAuth(const TestAuth&) = delete;
  TestAuth& operator=(const TestAuth&) = delete;

  /// Rewrites the auth policy with `rate_limits_yaml` as its `rate_limits:`
  /// body (before the service starts, or to see it reload).
  void SetRateLimits(const std::string& rate_limits_yaml);
  /// Rewrites the auth policy with `names` as its `service_certificates`:
  /// under mutual TLS, the client certificates a token with the service
  /// role may come with.
  void SetServiceCertificates(const std::vector<std::string>& names);

  /// `yaml` (a service's config text) with the `auth:` section added.
  std::string WithAuth(const std::string& yaml) const;
  /// The `FLYWHEEL_AUTH_*` variables for a service process.
  std::vector<std::string> Env() const;

  /// A token for `subject` in `tenant` with `roles`. The default is an ops
  /// console: ops-admin and service, which every RPC allows.
  std::string Token(const std::string& tenant = "acme",
                    std::vector<std::string> roles = {"ops-admin", "service"},
                    const std::string& subject = "ops-console") const;
  /// A call context with `Bearer <token>` and a deadline.
  std::unique_ptr<::grpc::ClientContext> Call(const std::string& token,
                                              absl::Duration deadline = absl::Seconds(30)) const;
  /// `Call(Token(tenant))`.
  std::unique_ptr<::grpc::ClientContext> CallAs(const std::string& tenant = "acme") const;

  const auth::testing::TestIssuer& issuer() const { return issuer_; }
  const std::string& dir() const { return dir_; }

 private:
  auth::testing::TestIssuer issuer_;
  void WritePolicy();

  std::string dir_;
  std::string rate_limits_yaml_;
  std::vector<std::string> service_certificates_;
  std::string auth_yaml_;
};

}  // namespace flywheel::runtime::testing
