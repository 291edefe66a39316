#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::intake {

/// Parses and checks an intake policy document (YAML; the format is
/// described in services/intake/policy/default.yaml). On any problem returns
/// INVALID_ARGUMENT whose message lists every problem found, one per line, each
/// naming the path in the document and its line:
/// `request_types[2].fields[0].kind (line 14): unknown kind "texte"; ...`.
/// Unknown keys are problems too, so a typo cannot pass silently.
/// Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text);

/// Reads `path` and parses it; a file that cannot be read is INVALID_ARGUMENT
/// naming it. What `--validate` and the reloader call.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped in services/intake/policy/default.yaml, compiled in:
/// used when `intake.policy_file` is not set.
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::intake
