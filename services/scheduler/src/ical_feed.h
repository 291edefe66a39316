#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "flywheel/scheduler/v1/resources.pb.h"

namespace flywheel::scheduler {

/// What one iCalendar feed shows.
struct FeedContent {
  /// The tenant whose calendar it is; part of every event's UID.
  std::string tenant_id;
  /// The calendar's name in calendar apps (X-WR-CALNAME).
  std::string title;
  /// The slots, any status: a cancelled one is a STATUS:CANCELLED event, so
  /// a subscribed calendar drops it instead of keeping a stale copy.
  std::vector<v1::PublishingSlot> slots;
  /// The blackouts over the same period, as opaque events spanning them.
  std::vector<v1::Blackout> blackouts;
};

/// How often a subscribed calendar app should fetch the feed again.
inline constexpr absl::Duration kFeedRefresh = absl::Minutes(15);

/// `content` as an RFC 5545 VCALENDAR (METHOD:PUBLISH), built with libical,
/// which folds long lines and escapes text. A slot is an instant event at
/// its publish time (DTSTART, no DTEND), transparent to free/busy, with
/// SEQUENCE from its revision, so a moved slot replaces its old copy; its
/// SUMMARY says the destination and, unless it is simply reserved, where it
/// stands (held, awaiting approval, published, failed). `now` is every
/// event's DTSTAMP.
std::string RenderFeed(const FeedContent& content, absl::Time now);

}  // namespace flywheel::scheduler
