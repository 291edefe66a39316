#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::routing {

/// Parses and validates a routing policy document (YAML; the format is
/// described in services/routing/policy/default.yaml). Unknown keys, missing
/// keys, bad values and dangling references (a request type naming an
/// unknown template, a rule naming an unknown team) are all reported at once
/// as INVALID_ARGUMENT, one problem per `; `-separated part, each naming the
/// path in the file and its line: `teams[0].members[1].wip_limit: must be a
/// whole number >= 1 (line 42)`. Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text);

/// Reads `path` and parses it; NOT_FOUND when it cannot be read. What
/// `flywheel-routing --validate FILE` and the reloader run.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped with the service (policy/default.yaml, compiled in);
/// used when `routing.policy_file` is not set.
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::routing
