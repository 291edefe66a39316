#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace flywheel::redis {

/// How a server error reply (`-WRONGTYPE ...`) becomes an `absl::Status`.
/// The status message is the server's text verbatim; the first word of it
/// (`WRONGTYPE`, `NOSCRIPT`, `ERR`, ...) rides in a payload under this type
/// URL and is read back with `ServerErrorCode`.
inline constexpr char kServerErrorPayload[] = "type.flywheel.dev/flywheel.redis.ServerError";

/// Maps one server error message to a status:
/// - `NOAUTH`, `WRONGPASS`, `NOPERM`: PERMISSION_DENIED
/// - `LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN`, `CLUSTERDOWN`, `READONLY`:
///   UNAVAILABLE (transient on the server side; the connection itself is fine)
/// - `OOM`: RESOURCE_EXHAUSTED
/// - anything else (`ERR`, `WRONGTYPE`, `NOSCRIPT`, `EXECABORT`, ...):
///   FAILED_PRECONDITION
/// Thread-safe (pure function).
absl::Status ServerErrorToStatus(std::string_view message);

/// The server's error code word (`NOSCRIPT`) when `status` came from a server
/// error reply; empty for every other status.
std::string ServerErrorCode(const absl::Status& status);

}  // namespace flywheel::redis
