#include "flywheel/auth/role_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace flywheel::auth {

RoleTable::RoleTable(std::string service, std::initializer_list<MethodRoles> methods)
    : service_(std::move(service)) {
  for (const MethodRoles& m : methods) {
    roles_[std::string(m.method)] = std::vector<Role>(m.roles.begin(), m.roles.end());
  }
}

std::vector<Role> RoleTable::RolesOf(std::string_view method) const {
  auto it = roles_.find(absl::string_view(method.data(), method.size()));
  return it == roles_.end() ? std::vector<Role>{} : it->second;
}

absl::Status RoleTable::Allow(const Principal& principal, std::string_view method) const {
  const std::vector<Role> allowed = RolesOf(method);
  for (Role role : allowed) {
    if (principal.Has(role)) return absl::OkStatus();
  }
  if (allowed.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(std::string(method), " is not open to any role"));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      std::string(method), " needs one of the roles ",
      absl::StrJoin(
          allowed, ", ",
          [](std::string* out, Role r) { absl::StrAppend(out, std::string(RoleName(r))); }),
      " in tenant '", principal.tenant, "'"));
}

absl::Status RoleTable::CheckCovers(const std::vector<std::string>& methods) const {
  std::vector<std::string> missing;
  for (const std::string& m : methods) {
    if (!roles_.contains(m)) missing.push_back(m);
  }
  std::vector<std::string> unknown;
  for (const auto& [name, roles] : roles_) {
    if (std::find(methods.begin(), methods.end(), name) == methods.end()) unknown.push_back(name);
  }
  if (missing.empty() && unknown.empty()) return absl::OkStatus();
  std::sort(unknown.begin(), unknown.end());
  std::string message = absl::StrCat("role table of ", service_, ":");
  if (!missing.empty()) absl::StrAppend(&message, " no roles for ", absl::StrJoin(missing, ", "));
  if (!unknown.empty()) absl::StrAppend(&message, " not methods: ", absl::StrJoin(unknown, ", "));
  return absl::FailedPreconditionError(message);
}

}  // namespace flywheel::auth
