#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::approval {

/// Parses and validates an approval policy document (YAML; the format is
/// described in services/approval/policy/default.yaml) with libs/config's
/// policy reader. Unknown keys, missing keys, bad values and dangling
/// references (an approver or escalation group the tenant does not define, a
/// quorum larger than the step's approvers) are all reported at once as
/// INVALID_ARGUMENT, one problem a line, `FILE:LINE: path: what is wrong`:
/// `<inline>:12: tenants.acme.chains.t1.stages[0].steps[0].approvers.groups[0]:
/// unknown group "legall"`. `file` names the text in problems. Pure
/// function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text,
                                   std::string_view file = "<inline>");

/// Reads `path` and parses it; FAILED_PRECONDITION naming the file when it
/// cannot be read (see config::LoadPolicy). What `flywheel-approval
/// --validate FILE` and the reloader will run.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped with the service (policy/default.yaml, compiled in).
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::approval
