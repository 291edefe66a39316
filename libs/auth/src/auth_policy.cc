#include "flywheel/auth/auth_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flywheel/config/policy_reader.h"

namespace flywheel::auth {
namespace {

using config::PolicyNode;

constexpr std::string_view kOwnSourcePrefix = "//flywheel/";

std::optional<BucketLimit> ReadLimit(const PolicyNode& node) {
  if (!node.Keys({"per_second", "burst"})) return std::nullopt;
  std::optional<int64_t> rate = node.Required("per_second").Int(config::InRange(1, 1'000'000));
  std::optional<int64_t> burst = node.Required("burst").Int(config::InRange(1, 10'000'000));
  if (!rate || !burst) return std::nullopt;
  return BucketLimit{.per_second = static_cast<double>(*rate),
                     .burst = static_cast<double>(*burst)};
}

AuthPolicy ReadDocument(const PolicyNode& root) {
  AuthPolicy p;
  root.Keys({"tenants", "rate_limits", "event_producers", "service_certificates"});
  for (const std::string& t : root.Required("tenants").Strings()) {
    if (!p.tenants.insert(t).second) root["tenants"].Problem("duplicate tenant \"" + t + "\"");
  }
  if (const PolicyNode limits = root["rate_limits"];
      limits.Keys({"per_tenant", "per_caller", "tenants"})) {
    p.limits.per_tenant = ReadLimit(limits["per_tenant"]);
    p.limits.per_caller = ReadLimit(limits["per_caller"]);
    for (const auto& [key, value] : limits["tenants"].Entries()) {
      std::optional<std::string> tenant = key.String();
      std::optional<BucketLimit> limit = ReadLimit(value);
      if (!tenant || !limit) continue;
      if (!p.tenants.contains(*tenant)) key.Problem("is not one of the tenants served");
      p.limits.tenant_overrides[*tenant] = *limit;
    }
  }
  for (const auto& [key, value] : root["event_producers"].Entries()) {
    std::optional<std::string> source = key.String();
    if (!source) continue;
    std::vector<std::string> tenants = value.Strings();
    for (const std::string& t : tenants) {
      if (t != "*" && !p.tenants.contains(t)) {
        value.Problem("tenant \"" + t + "\" is not one of the tenants served");
      }
    }
    p.event_producers[*source] = std::move(tenants);
  }
  for (const std::string& name : root["service_certificates"].Strings()) {
    p.service_certificates.insert(name);
  }
  return p;
}

}  // namespace

absl::Status AuthPolicy::CheckProducer(std::string_view source, std::string_view tenant) const {
  if (!Serves(std::string(tenant))) {
    return absl::PermissionDeniedError(
        absl::StrCat("tenant '", std::string(tenant), "' is not served here"));
  }
  if (source.starts_with(kOwnSourcePrefix)) return absl::OkStatus();
  auto it = event_producers.find(std::string(source));
  if (it != event_producers.end() &&
      std::any_of(it->second.begin(), it->second.end(),
                  [&](const std::string& t) { return t == "*" || t == tenant; })) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("producer '", std::string(source), "' may not publish events for tenant '",
                   std::string(tenant), "' (auth policy event_producers)"));
}

absl::Status AuthPolicy::CheckServiceCertificate(const Principal& principal) const {
  if (principal.dev || !principal.client_certificate || !principal.Has(Role::kService)) {
    return absl::OkStatus();
  }
  const std::vector<std::string>& names = principal.client_certificate->names;
  if (std::any_of(names.begin(), names.end(),
                  [&](const std::string& n) { return service_certificates.contains(n); })) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "a token with the service role must come with a client certificate of a service (auth "
      "policy service_certificates); this one names ",
      names.empty() ? "nothing" : absl::StrCat("'", absl::StrJoin(names, "', '"), "'")));
}

absl::StatusOr<AuthPolicy> ParseAuthPolicy(std::string_view yaml, std::string_view file) {
  return config::ReadPolicy(yaml, file, ReadDocument);
}

absl::StatusOr<AuthPolicy> LoadAuthPolicyFile(const std::string& path) {
  return config::LoadPolicy(path, ReadDocument);
}

}  // namespace flywheel::auth
