#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "flywheel/http/server.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"

namespace flywheel::scheduler {

/// The path under which the feed address serves calendar feeds.
inline constexpr char kFeedPath[] = "/feeds/v1/calendar.ics";

/// Secret addresses of calendar feeds, as calendar apps need them: an app
/// subscribes to a URL and sends no token, so the URL itself is the
/// credential. Each path carries the tenant and filters of one feed and an
/// HMAC-SHA256 of them under the service's secret: whoever holds the path
/// reads that feed, and changing any parameter breaks the signature. The
/// period is left out (a subscribed feed rolls with the day). A leaked
/// address is revoked by changing the secret, which revokes them all.
class FeedLinks {
 public:
  /// `secret` must hold at least 32 bytes (checked by the caller that reads
  /// it, see ReadFeedSecret).
  explicit FeedLinks(std::string secret) : secret_(std::move(secret)) {}

  /// `kFeedPath?tenant=…&team=…&channel=…&destination=…&campaign=…&sig=…`,
  /// parameters in that order, empty filters left out.
  std::string PathFor(const v1::GetCalendarFeedRequest& feed) const;

  /// The feed a signed query names (its `range` unset).
  /// PERMISSION_DENIED when the signature is missing or does not match;
  /// INVALID_ARGUMENT for an unknown parameter or channel.
  absl::StatusOr<v1::GetCalendarFeedRequest> Read(const http::Query& query) const;

 private:
  std::string Sign(const std::string& canonical) const;

  const std::string secret_;
};

/// The feed secret from `path` (ReadSecretFile): FAILED_PRECONDITION when it
/// cannot be read, INVALID_ARGUMENT when it holds fewer than 32 bytes.
absl::StatusOr<std::string> ReadFeedSecret(const std::string& path);

}  // namespace flywheel::scheduler
