#pragma once

#include <optional>

#include "absl/time/time.h"

namespace flywheel::kafka {

/// How far ahead of the consumer's clock an event's `ce_time` may be and
/// still count as on time: ordinary drift between hosts' clocks. Ahead by
/// more, the producer's clock (or its stamping) is wrong.
inline constexpr absl::Duration kClockSkewTolerance = absl::Seconds(1);

/// What the consumer records for one handled event.
struct EventAge {
  /// What `flywheel_kafka_event_age_seconds` observes, never negative;
  /// nullopt when no trustworthy age is known (observe nothing).
  std::optional<absl::Duration> age;
  /// How far `ce_time` is ahead of now, when by more than
  /// `kClockSkewTolerance` (`flywheel_kafka_event_clock_skew_total`).
  std::optional<absl::Duration> skew;
};

/// Decides an event's age at `now`:
/// - no `ce_time`: no age, no skew;
/// - `ce_time` at most `kClockSkewTolerance` ahead: now − `ce_time`, a small
///   negative difference counted as 0;
/// - further ahead: skew, and the age is taken from the Kafka record's own
///   timestamp instead (when the record was produced or appended) if that is
///   itself not ahead beyond the tolerance; else no age.
/// A negative age would pull the histogram's sum down and break `rate()`
/// over it; an event from the future would count as fast.
EventAge AgeOfEvent(absl::Time now, std::optional<absl::Time> ce_time,
                    std::optional<absl::Time> record_time);

}  // namespace flywheel::kafka
