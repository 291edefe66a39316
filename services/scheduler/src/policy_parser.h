#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "policy.h"

namespace flywheel::scheduler {

/// Parses and validates a scheduler policy document (YAML; the format is
/// described in services/scheduler/policy/default.yaml) with libs/config's
/// policy reader. Unknown keys, missing keys, bad values, an unknown time
/// zone, inverted or overlapping working hours, a calendar with no working
/// hours, a default or team calendar the tenant lacks and an escalation chain
/// out of order are all reported at once as INVALID_ARGUMENT, one problem a
/// line, `FILE:LINE: path: what is wrong`: `<inline>:7:
/// tenants.acme.calendars.emea.time_zone: unknown time zone "Europe/Berln"`.
/// `file` names the text in problems. Pure function; any thread.
absl::StatusOr<Policy> ParsePolicy(const std::string& yaml_text,
                                   std::string_view file = "<inline>");

/// Reads `path` and parses it; FAILED_PRECONDITION naming the file when it
/// cannot be read (see config::LoadPolicy). What `flywheel-scheduler
/// --validate FILE` and the reloader will run.
absl::StatusOr<Policy> LoadPolicyFile(const std::string& path);

/// The policy shipped with the service (policy/default.yaml, compiled in).
const std::string& DefaultPolicyYaml();

}  // namespace flywheel::scheduler
