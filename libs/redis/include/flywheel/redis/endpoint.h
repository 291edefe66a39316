#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace flywheel::redis {

/// Where a Redis server listens: a host name or IP literal and a TCP port.
struct Endpoint {
  /// Host name, IPv4 literal or IPv6 literal (without brackets).
  std::string host;
  int port = 0;

  /// `host:port`, with brackets around an IPv6 literal (`[::1]:6379`), so the
  /// text parses back to the same endpoint.
  std::string ToString() const;

  bool operator==(const Endpoint&) const = default;
};

/// Parses `host:port` or `[ipv6]:port`. The port is required and must be a
/// decimal number in 1..65535; the host must be non-empty and free of
/// whitespace; an IPv6 literal must be in brackets. Any other text gives
/// INVALID_ARGUMENT saying what is wrong. Thread-safe (pure function).
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text);

}  // namespace flywheel::redis
