#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <optional>

#include "absl/status/statusor.h"
#include "feed_links.h"
#include "flywheel/core/clock.h"
#include "flywheel/http/server.h"
#include "ical_feed.h"
#include "publishing.h"

namespace flywheel::scheduler {

/// The period a feed shows when none is asked for: from this long ago...
inline constexpr absl::Duration kFeedPast = absl::Hours(24 * 30);
/// ...to this far ahead.
inline constexpr absl::Duration kFeedAhead = absl::Hours(24 * 180);
/// The longest period one feed shows.
inline constexpr absl::Duration kLongestFeed = absl::Hours(24 * 400);

/// iCalendar feeds of the publishing calendar: over gRPC (GetCalendarFeed)
/// for callers with a token, and at signed addresses over HTTP for
/// calendar apps. Thread-safe; coroutines run on the caller's executor.
class CalendarFeeds {
 public:
  /// `links` is empty when no feed address is configured: then responses
  /// carry no subscription path and `Serve` answers 404.
  CalendarFeeds(Publishing& publishing, const Clock& clock, std::optional<FeedLinks> links)
      : publishing_(publishing), clock_(clock), links_(std::move(links)) {}

  /// The feed `request` asks for: every slot in its period matching its
  /// filters (cancelled ones included), with its holds, and the blackouts
  /// over the period that touch its channels and destinations.
  /// INVALID_ARGUMENT naming every bad field: no tenant, an unspecified
  /// channel, a range inverted, half given or longer than kLongestFeed.
  asio::awaitable<absl::StatusOr<v1::GetCalendarFeedResponse>> Get(
      const v1::GetCalendarFeedRequest& request);

  /// A GET of a signed feed address, answered on an HTTP server thread
  /// (blocking it while the feed is read on `io`): 200 with the feed, 403
  /// for a signature that does not match, 400 for a malformed query, 404
  /// without feed links, 503 when the store cannot be read.
  http::Response Serve(asio::io_context& io, const http::Request& request);

 private:
  asio::awaitable<absl::StatusOr<FeedContent>> Gather(const v1::GetCalendarFeedRequest& request,
                                                      absl::Time from, absl::Time to);

  Publishing& publishing_;
  const Clock& clock_;
  const std::optional<FeedLinks> links_;
};

}  // namespace flywheel::scheduler
