#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flywheel/auth/auth_policy.h"
#include "flywheel/auth/principal.h"
#include "flywheel/auth/rate_limiter.h"
#include "flywheel/auth/verifier.h"
#include "flywheel/config/config.h"
#include "flywheel/core/clock.h"

namespace flywheel::auth {

/// How a service authenticates its callers: the `auth.*` config keys.
struct AuthSettings {
  /// `auth.dev_mode`: every call is taken without a token, as `DevPrincipal`.
  /// Refused unless `grpc.listen` is a loopback address, so a deployment
  /// cannot serve the network with it.
  bool dev_mode = false;
  /// `auth.key_file`: a JWKS document or one PEM public key; reloads when it
  /// changes.
  std::string key_file;
  /// `auth.issuer`, `auth.audience`, `auth.clock_skew` (30s),
  /// `auth.max_token_bytes` (8192).
  VerifierOptions verifier;
  /// `auth.policy_file`: tenants served, rate limits, event producers
  /// (`AuthPolicy`); reloads when it changes.
  std::string policy_file;
};

/// Whether `host_port` (`127.0.0.1:8081`, `[::1]:0`, `localhost:1`) is on
/// a loopback address.
bool IsLoopback(std::string_view host_port);

/// Reads the `auth.*` keys. Without `auth.dev_mode: true`, `auth.key_file`,
/// `auth.issuer`, `auth.audience` and `auth.policy_file` are required, so a
/// deployment whose config says nothing about auth does not start. Problems
/// are recorded in `config` (exit 2 at its `Check`).
AuthSettings ReadAuthSettings(config::Config& config, std::string_view grpc_listen);

/// Turns a call's `authorization` header into a `Principal`, and keeps the
/// keys, the auth policy and the rate limiter that go with it. Thread-safe.
class Authenticator {
 public:
  /// Loads the key file and the policy file (not in dev mode); their
  /// errors fail the start.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(AuthSettings settings,
                                                               const Clock& clock);

  bool dev_mode() const { return settings_.dev_mode; }
  const AuthSettings& settings() const { return settings_; }

  /// `authorization` is the header's value (nullopt when absent): `Bearer
  /// <JWT>`. UNAUTHENTICATED when it is missing, not a bearer token or does
  /// not verify; PERMISSION_DENIED when the token is good but its tenant is
  /// not served here. In dev mode, `DevPrincipal` whatever was sent.
  absl::StatusOr<Principal> Authenticate(std::optional<std::string_view> authorization) const;

  /// Takes one call's tokens from the principal's tenant and caller
  /// buckets; the refusal when one is empty. Never limits in dev mode.
  std::optional<RateLimiter::Refusal> Limit(const Principal& principal);

  /// OK when events from `source` may name `tenant` (`AuthPolicy::
  /// CheckProducer`); always in dev mode.
  absl::Status CheckEventProducer(std::string_view source, std::string_view tenant) const;

  /// `AuthPolicy::CheckServiceCertificate` with the running policy; always
  /// OK in dev mode.
  absl::Status CheckServiceCertificate(const Principal& principal) const;

  /// Reload the key file / policy file; on error the running one stays.
  absl::Status ReloadKeys(const std::string& path);
  absl::Status ReloadPolicy(const std::string& path);

 private:
  Authenticator(AuthSettings settings, const Clock& clock, KeySet keys, AuthPolicy policy);
  std::shared_ptr<const AuthPolicy> policy() const;

  const AuthSettings settings_;
  Verifier verifier_;
  RateLimiter limiter_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthPolicy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flywheel::auth
