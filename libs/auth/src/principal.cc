#include "flywheel/auth/principal.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace flywheel::auth {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 5> kRoles = {{
    {Role::kRequester, "requester"},
    {Role::kCreator, "creator"},
    {Role::kApprover, "approver"},
    {Role::kOpsAdmin, "ops-admin"},
    {Role::kService, "service"},
}};

}  // namespace

std::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& [r, n] : kRoles) {
    if (n == name) return r;
  }
  return std::nullopt;
}

bool Principal::Has(Role role) const {
  return dev || std::find(roles.begin(), roles.end(), role) != roles.end();
}

Principal DevPrincipal() {
  Principal p;
  p.user_id = "dev";
  for (const auto& [r, name] : kRoles) p.roles.push_back(r);
  p.dev = true;
  return p;
}

absl::Status CheckTenant(const Principal& principal, std::string_view tenant) {
  if (principal.ActsFor(tenant)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("the caller acts for tenant '", principal.tenant,
                                                  "', not '", std::string(tenant), "'"));
}

absl::StatusOr<std::string> ActingUser(const Principal& principal, std::string_view claimed) {
  if (claimed.empty()) return principal.user_id;
  if (claimed == principal.user_id || principal.Has(Role::kService)) return std::string(claimed);
  return absl::PermissionDeniedError(absl::StrCat(
      "the caller is '", principal.user_id, "' and cannot act as '", std::string(claimed), "'"));
}

}  // namespace flywheel::auth
