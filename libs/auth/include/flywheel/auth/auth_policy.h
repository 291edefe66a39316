#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "flywheel/auth/principal.h"
#include "flywheel/auth/rate_limiter.h"

namespace flywheel::auth {

/// Who an installation serves and how much: a reviewable YAML file
/// (`auth.policy_file`) that reloads like every policy file.
///
///   tenants: [acme, demo]          # a token for any other tenant is refused
///   rate_limits:
///     per_tenant: {per_second: 200, burst: 400}
///     per_caller: {per_second: 20, burst: 40}
///     tenants:                     # a tenant's own per_tenant limit
///       acme: {per_second: 500, burst: 1000}
///   event_producers:               # CloudEvents `source` -> tenants ("*": all)
///     "//crm.example.com": [acme]
///   service_certificates:          # under mutual TLS, who may carry a service token
///     - spiffe://flywheel.example.com/routing
///
/// Flywheel's own services (`//flywheel/<service>`) may publish for every
/// tenant served; who may write to a topic at all is Kafka's ACLs' to say.
struct AuthPolicy {
  absl::flat_hash_set<std::string> tenants;
  RateLimits limits;
  /// Tenants by producing source; "*" stands for every tenant served.
  absl::flat_hash_map<std::string, std::vector<std::string>> event_producers;
  /// Client certificate names (SAN URI or DNS name, or CN) of the services
  /// that may call with a token holding the `service` role, when the call
  /// comes over mutual TLS.
  absl::flat_hash_set<std::string> service_certificates;

  bool Serves(std::string_view tenant) const { return tenants.contains(std::string(tenant)); }

  /// OK when the producer `source` may publish events for `tenant`;
  /// otherwise PERMISSION_DENIED saying which (both are the event's own).
  absl::Status CheckProducer(std::string_view source, std::string_view tenant) const;

  /// OK unless `principal` holds the `service` role and came over mutual
  /// TLS with a client certificate naming none of `service_certificates`;
  /// then PERMISSION_DENIED saying which names the certificate had. A
  /// token with the service role may act as any user (`ActingUser`), so
  /// under mutual TLS it is only taken from a service's own connection.
  absl::Status CheckServiceCertificate(const Principal& principal) const;
};

/// Reads an auth policy; every problem at once, as for any policy file
/// (`config::ReadPolicy`). Pure; any thread.
absl::StatusOr<AuthPolicy> ParseAuthPolicy(std::string_view yaml, std::string_view file);
/// `ParseAuthPolicy` of the file at `path`.
absl::StatusOr<AuthPolicy> LoadAuthPolicyFile(const std::string& path);

}  // namespace flywheel::auth
