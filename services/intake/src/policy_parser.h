#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::intake {

/// Parses and checks an intake policy document (YAML; the format is
/// described in services/intake/policy/default.yaml) with libs/config's
/// policy reader. On any problem returns INVALID_ARGUMENT whose message lists
/// every problem found, one per line, `FILE:LINE: path: what is wrong`:
/// `<inline>:14: request_types[2].fields[0].kind: unknown field kind "texte";
/// did you mean 'text'?`. Unknown keys are problems too, so a typo cannot pass
/// silently. `file` names the text in problems. Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text,
                                   std::string_view file = "<inline>");

/// Reads `path` and parses it; a file that cannot be read is
/// FAILED_PRECONDITION naming it (see config::LoadPolicy). What `--validate`
/// and the reloader call.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped in services/intake/policy/default.yaml, compiled in:
/// used when `intake.policy_file` is not set.
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::intake
