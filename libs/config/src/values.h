#pragma once

// How libs/config reads values, shared by Config and the policy reader so
// that a service's config and its policy files speak one dialect.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::config::internal {

// Why a value did not parse, phrased to follow the key.
inline constexpr char kScalarReason[] = "must be a single value, not a list or mapping";
inline constexpr char kIntReason[] = "must be an integer";
inline constexpr char kBoolReason[] = "must be true or false";
inline constexpr char kDurationReason[] = "must be a duration like 250ms, 90s, 15m, 2h or 3d";

// A value as it appears after `got`: quoted, escaped onto one line, cut
// short when long.
std::string Quote(std::string_view text);

// YAML text of a node; flow style when `flow`, so it fits on one line.
std::string Emit(const YAML::Node& node, bool flow);

// true/false, yes/no, on/off, 1/0, in any case.
std::optional<bool> ParseBool(std::string_view text);

// absl's durations (250ms, 1.5s, 1h30m) with whole days in front: 3d, 1d12h.
// A bare number other than 0, or an infinite one, is refused.
std::optional<absl::Duration> ParseDuration(std::string_view text);

// The whole file, or FAILED_PRECONDITION (the one code for a file that cannot
// be read) with the message "cannot open: <strerror>" or "cannot read: ...".
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace flywheel::config::internal
