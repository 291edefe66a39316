#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::routing {

/// Parses and validates a routing policy document (YAML; the format is
/// described in services/routing/policy/default.yaml) with libs/config's
/// policy reader. Unknown keys, missing keys, bad values and dangling
/// references (a request type naming an unknown template, a rule naming an
/// unknown team) are all reported at once as INVALID_ARGUMENT, one problem a
/// line, `FILE:LINE: path: what is wrong`: `<inline>:42:
/// teams[0].members[1].wip_limit: must be between 1 and 1000, got "0"`.
/// `file` names the text in problems. Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text,
                                   std::string_view file = "<inline>");

/// Reads `path` and parses it; FAILED_PRECONDITION naming the file when it
/// cannot be read (see config::LoadPolicy). What `flywheel-routing --validate
/// FILE` and the reloader run.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped with the service (policy/default.yaml, compiled in);
/// used when `routing.policy_file` is not set.
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::routing
