#pragma once

#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::lead_scoring {

/// Parses and validates a lead-scoring policy document (YAML; the format is
/// described in services/lead-scoring/policy/default.yaml) with libs/config's
/// policy reader. Unknown keys, missing keys, bad values, a rule of an
/// activity type the file does not list, an unknown or cyclic score group,
/// a rule id used twice, thresholds or grades out of order: all reported at
/// once as INVALID_ARGUMENT, one problem a line, `FILE:LINE: path: what is
/// wrong`. `file` names the text in problems. Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text,
                                   std::string_view file = "<inline>");

/// Reads `path` and parses it; FAILED_PRECONDITION naming the file when it
/// cannot be read. What `--validate FILE` and the reloader run.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// Parses one model, a document of the form `tenants.<tenant>.model` takes,
/// against the activity types `activity_types` (a Backtest's candidate).
/// Problems as `ParsePolicy`'s, with `file` naming the text.
absl::StatusOr<Model> ParseModel(const std::string& yaml_text,
                                 const std::set<std::string>& activity_types,
                                 std::string_view file = "model_yaml");

/// The policy shipped with the service (policy/default.yaml, compiled in).
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::lead_scoring
