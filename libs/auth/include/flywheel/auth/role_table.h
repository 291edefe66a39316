#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "flywheel/auth/principal.h"

namespace flywheel::auth {

/// One line of a role table: a method and the roles that may call it.
struct MethodRoles {
  std::string_view method;
  std::initializer_list<Role> roles;
};

/// Which roles may call each method of one gRPC service, in one table a
/// reviewer can read next to the service's handlers:
///
///   const RoleTable kTable("flywheel.intake.v1.IntakeService", {
///       {"SubmitRequest", {Role::kRequester, Role::kOpsAdmin, Role::kService}},
///       {"GetRequest",    {Role::kRequester, Role::kCreator, ...}},
///   });
///
/// A method missing from the table is refused to everyone; `CheckCovers`
/// at start-up makes sure none is missing. Immutable; any thread.
class RoleTable {
 public:
  RoleTable(std::string service, std::initializer_list<MethodRoles> methods);

  /// The full protobuf name of the service (`flywheel.intake.v1.IntakeService`).
  const std::string& service() const { return service_; }

  /// OK when `principal` holds one of the roles `method` allows (a dev
  /// principal holds them all); otherwise PERMISSION_DENIED naming the
  /// method and the roles it needs.
  absl::Status Allow(const Principal& principal, std::string_view method) const;

  /// The roles `method` allows; empty for a method not in the table.
  std::vector<Role> RolesOf(std::string_view method) const;

  /// OK when the table names exactly `methods` (the service's methods, by
  /// short name); otherwise FAILED_PRECONDITION listing the methods missing
  /// and the names that are not methods. Called once at start-up.
  absl::Status CheckCovers(const std::vector<std::string>& methods) const;

 private:
  std::string service_;
  absl::flat_hash_map<std::string, std::vector<Role>> roles_;
};

}  // namespace flywheel::auth
