#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flywheel::auth {

/// What a caller may be, per tenant. Tokens carry them by these names in
/// their `roles` claim.
enum class Role {
  kRequester,  ///< `requester`: asks for work and follows it.
  kCreator,    ///< `creator`: does the work of a stage.
  kApprover,   ///< `approver`: decides approvals.
  kOpsAdmin,   ///< `ops-admin`: marketing ops; manages teams and any request.
  kService,    ///< `service`: another service, calling or publishing.
};

/// `requester`, `creator`, `approver`, `ops-admin`, `service`.
std::string_view RoleName(Role role);
/// The role named `name` (as `RoleName` spells it), if any.
std::optional<Role> ParseRole(std::string_view name);

/// The client certificate a call's connection presented and the server
/// verified (mutual TLS), as names.
struct ClientCertificate {
  /// Its subject alternative names, URIs first, then DNS names; its common
  /// name when it has neither.
  std::vector<std::string> names;
};

/// The verified caller of one call, handed to service logic as a plain value.
/// It names exactly one tenant: a token is issued for one tenant, and a
/// caller serving several holds one token per tenant.
struct Principal {
  /// The tenant the caller acts for (claim `tenant`).
  std::string tenant;
  /// Who is calling (claim `sub`): a user id, or a service's name.
  std::string user_id;
  /// The caller's groups (claim `groups`), as the identity provider names them.
  std::vector<std::string> groups;
  /// The caller's roles in `tenant` (claim `roles`); names not in `Role` are dropped.
  std::vector<Role> roles;
  /// Made up by dev mode, not verified: acts for any tenant with every role.
  bool dev = false;
  /// Set when the call came over mutual TLS; unset in plaintext or with
  /// server-only TLS.
  std::optional<ClientCertificate> client_certificate;

  bool Has(Role role) const;
  /// Whether the caller may act on `tenant`'s data.
  bool ActsFor(std::string_view tenant) const { return dev || tenant == this->tenant; }
};

/// The principal dev mode gives a call that carries no token: user `dev`,
/// every role, any tenant.
Principal DevPrincipal();

/// OK when `principal` acts for `tenant`; otherwise PERMISSION_DENIED naming
/// both tenants (the caller knows its own, and named the other).
absl::Status CheckTenant(const Principal& principal, std::string_view tenant);

/// Who a call acts as: `claimed` (a request's `actor_id`) when empty or the
/// principal's own id, or any id for a `service` (acting for a user) or a
/// dev principal. Otherwise PERMISSION_DENIED: a person cannot act as
/// someone else.
absl::StatusOr<std::string> ActingUser(const Principal& principal, std::string_view claimed);

}  // namespace flywheel::auth
