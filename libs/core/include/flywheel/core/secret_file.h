#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace flywheel {

/// The secret in the file at `path` (a password, a signing key), as a
/// Kubernetes Secret mounted as a file holds it: surrounding whitespace and
/// the trailing newline an editor adds are dropped. FAILED_PRECONDITION when
/// the file cannot be read or holds nothing; the message names `what` (the
/// config key) and the path, never the content.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, std::string_view what);

}  // namespace flywheel
