#include "flywheel/auth/authenticator.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"

namespace flywheel::auth {

bool IsLoopback(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  std::string_view host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

AuthSettings ReadAuthSettings(config::Config& config, std::string_view grpc_listen) {
  AuthSettings s;
  const std::string listen(grpc_listen);
  s.dev_mode = config.Get<bool>("auth.dev_mode", false, [listen](const bool& on) -> std::string {
    if (!on || IsLoopback(listen)) return "";
    return "dev mode is only allowed while grpc.listen is a loopback address (127.0.0.1, "
           "[::1] or localhost), and grpc.listen is " +
           listen;
  });
  if (s.dev_mode) return s;
  s.key_file = config.Required<std::string>("auth.key_file", config::NonEmpty());
  s.verifier.issuer = config.Required<std::string>("auth.issuer", config::NonEmpty());
  s.verifier.audience = config.Required<std::string>("auth.audience", config::NonEmpty());
  s.verifier.clock_skew =
      config.Get<absl::Duration>("auth.clock_skew", absl::Seconds(30),
                                 config::InRange(absl::ZeroDuration(), absl::Minutes(5)));
  s.verifier.max_token_bytes = static_cast<size_t>(
      config.Get<int64_t>("auth.max_token_bytes", 8 * 1024, config::InRange(512, 64 * 1024)));
  s.policy_file = config.Required<std::string>("auth.policy_file", config::NonEmpty());
  return s;
}

Authenticator::Authenticator(AuthSettings settings, const Clock& clock, KeySet keys,
                             AuthPolicy policy)
    : settings_(std::move(settings)),
      verifier_(settings_.verifier, std::move(keys), clock),
      limiter_(policy.limits, clock),
      policy_(std::make_shared<const AuthPolicy>(std::move(policy))) {}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(AuthSettings settings,
                                                                     const Clock& clock) {
  KeySet keys;
  AuthPolicy policy;
  if (!settings.dev_mode) {
    FLYWHEEL_ASSIGN_OR_RETURN(keys, LoadKeyFile(settings.key_file));
    FLYWHEEL_ASSIGN_OR_RETURN(policy, LoadAuthPolicyFile(settings.policy_file));
  }
  return std::unique_ptr<Authenticator>(
      new Authenticator(std::move(settings), clock, std::move(keys), std::move(policy)));
}

std::shared_ptr<const AuthPolicy> Authenticator::policy() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    std::optional<std::string_view> authorization) const {
  if (settings_.dev_mode) return DevPrincipal();
  if (!authorization) {
    return absl::UnauthenticatedError("no bearer token: send 'authorization: Bearer <JWT>'");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization->size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(std::string(authorization->substr(0, kScheme.size())), "bearer ")) {
    return absl::UnauthenticatedError("the authorization header is not 'Bearer <JWT>'");
  }
  FLYWHEEL_ASSIGN_OR_RETURN(Principal principal,
                            verifier_.Verify(authorization->substr(kScheme.size())));
  if (!policy()->Serves(principal.tenant)) {
    return absl::PermissionDeniedError(
        absl::StrCat("tenant '", principal.tenant, "' is not served here"));
  }
  return principal;
}

std::optional<RateLimiter::Refusal> Authenticator::Limit(const Principal& principal) {
  if (settings_.dev_mode) return std::nullopt;
  return limiter_.Admit(principal.tenant, principal.user_id);
}

absl::Status Authenticator::CheckEventProducer(std::string_view source,
                                               std::string_view tenant) const {
  if (settings_.dev_mode) return absl::OkStatus();
  return policy()->CheckProducer(source, tenant);
}

absl::Status Authenticator::CheckServiceCertificate(const Principal& principal) const {
  if (settings_.dev_mode) return absl::OkStatus();
  return policy()->CheckServiceCertificate(principal);
}

absl::Status Authenticator::ReloadKeys(const std::string& path) {
  FLYWHEEL_ASSIGN_OR_RETURN(KeySet keys, LoadKeyFile(path));
  verifier_.SetKeys(std::move(keys));
  return absl::OkStatus();
}

absl::Status Authenticator::ReloadPolicy(const std::string& path) {
  FLYWHEEL_ASSIGN_OR_RETURN(AuthPolicy policy, LoadAuthPolicyFile(path));
  limiter_.SetLimits(policy.limits);
  auto next = std::make_shared<const AuthPolicy>(std::move(policy));
  absl::MutexLock lock(&mu_);
  policy_ = std::move(next);
  return absl::OkStatus();
}

}  // namespace flywheel::auth
