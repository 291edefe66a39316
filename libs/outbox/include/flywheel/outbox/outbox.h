#pragma once

#include <asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::redis {
class AsyncClient;
class Pool;
}  // namespace flywheel::redis
namespace flywheel::metrics {
class Metrics;
}

namespace flywheel::outbox {

/// What happens to the events a state change causes once the change is
/// stored with them. The seam services publish through, so their logic is
/// tested with `testing::InMemoryOutbox`.
///
/// Events are grouped by a *tag*: the Redis Cluster hash tag of the state
/// they belong to (intake and routing use the tenant), since the change and
/// its events are written by one Lua script and must share a slot. Within a
/// tag, events are published in the order they were stored.
class Outbox {
 public:
  virtual ~Outbox() = default;

  /// After the change that stored `events` under `tag` committed: publishes
  /// them (one round trip to the broker) and removes them from the outbox.
  /// UNAVAILABLE when the broker did not acknowledge them all; they stay
  /// stored and the relay publishes them later, under the same ids.
  virtual absl::Status Publish(const std::string& tag,
                               const std::vector<kafka::OutgoingEvent>& events) = 0;

  /// Publishes every event still stored under `tag`, oldest first, now. For
  /// a change that must not overtake the events of an earlier one on the
  /// same aggregate (see `RedisOutbox::kLua`, `flywheel_outbox_busy`).
  /// UNAVAILABLE when the broker is down.
  virtual absl::Status Drain(const std::string& tag) = 0;

  /// `Publish` and `Drain` for coroutines: no thread waits for the broker
  /// or Redis. The defaults run `Publish` and `Drain` in place, for an
  /// outbox that never waits (the in-memory one).
  virtual asio::awaitable<absl::Status> Published(std::string tag,
                                                  std::vector<kafka::OutgoingEvent> events);
  virtual asio::awaitable<absl::Status> Drained(std::string tag);
};

/// What one relay pass did.
struct RelayReport {
  /// Events published and removed.
  int relayed = 0;
  /// Events old enough to relay that are still stored (the broker is down).
  int left = 0;
  /// How long the oldest of `left` has waited; zero when none is left.
  absl::Duration oldest = absl::ZeroDuration();
  /// Events old enough to relay that a publish in this process still holds
  /// (its broker ack, or its removal, has not come yet); left to it.
  int publishing = 0;
};

struct RedisOutboxOptions {
  /// Put before every key (the service's `redis.key_prefix`).
  std::string key_prefix;
  /// The relay leaves alone events stored less than this long ago. This
  /// process's relay never publishes an event this process is publishing,
  /// however old; the grace covers the rest: the moment between a change
  /// being stored and its publish starting, and the publishes of other
  /// processes, which this one cannot see. Longer than the producer's
  /// delivery timeout (the kit adds 5 s), or another replica's relay may
  /// publish an event its first publish is still delivering (under one id,
  /// which consumers deduplicate, but twice). An event whose process died
  /// is relayed once it is this old.
  absl::Duration grace = absl::Seconds(15);
  /// The most events of one tag one relay pass (or one Drain) publishes.
  size_t batch = 500;
};

/// The outbox in Redis, beside the state it belongs to. Keys, per tag:
///
///   <prefix>outbox:{<tag>}:events  hash: event id -> the stored event
///   <prefix>outbox:{<tag>}:queue   sorted set: event id by when it was
///                                  stored, in publishing order
///   <prefix>outbox:{<tag>}:busy    hash: aggregate key -> events stored
///   <prefix>outbox:{<tag>}:lease   the relay's claim on the tag (PX)
///   <prefix>outbox:tags            set of every tag that stored events
///
/// A state-changing Lua script writes its events itself: prepend `kLua` to
/// the script, append `ScriptArgs`' keys and args after the script's own
/// (they must come last), and call `flywheel_outbox_put()` where the change
/// is made. Then call `Publish` (or `Published`) at once. Every replica runs
/// `RelayOnce` periodically; a lease per tag keeps two replicas from relaying
/// one tag at once.
///
/// What the relay republishes: events stored longer than `grace` ago that no
/// publish in this process holds. A publish (after a change, a Drain, the
/// relay's own) holds its events from just before they reach the publisher
/// until their removal has answered or the publish failed, so an event whose
/// ack is merely slow is published once, and one whose publish failed, or
/// whose process died, is relayed. A Drain publishes everything stored,
/// held or not (its caller needs the aggregate free).
///
/// Metrics: `flywheel_outbox_relayed_events_total`,
/// `flywheel_outbox_pending_events` and
/// `flywheel_outbox_oldest_event_age_seconds` (both from the last relay
/// pass; alert when they stay above zero), and
/// `flywheel_outbox_publish_failures_total`.
///
/// Thread-safe.
class RedisOutbox final : public Outbox {
 public:
  /// Lua functions for a state script:
  ///   flywheel_outbox_put()            stores the events ScriptArgs passed
  ///   flywheel_outbox_busy(aggregate)  true while events for the aggregate
  ///                                    key are stored and not published;
  ///                                    refuse a change then, Drain and retry,
  ///                                    so its events cannot overtake them
  static const char kLua[];

  /// The KEYS and ARGV `flywheel_outbox_put` reads.
  struct ScriptArgs {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };

  /// `async` carries the Redis commands of the coroutine methods
  /// (`Prepared`, `Published`, `Drained`); without it they answer
  /// FAILED_PRECONDITION. `pool` carries the rest.
  RedisOutbox(redis::Pool& pool, kafka::EventPublisher& publisher, RedisOutboxOptions options,
              metrics::Metrics& metrics, const Clock& clock = SystemClock::Instance(),
              redis::AsyncClient* async = nullptr);
  ~RedisOutbox() override;

  /// Gives every event without an id a fresh one and every event without a
  /// time now, cuts every time to the microsecond (what is stored and what
  /// `ce_time` carries), then encodes them for a script. The first call for
  /// a tag in this process records the tag for the relay (one Redis round
  /// trip); so UNAVAILABLE when Redis is down.
  absl::StatusOr<ScriptArgs> ForScript(const std::string& tag,
                                       std::vector<kafka::OutgoingEvent>& events);

  /// `ForScript` for coroutines. `events` must stay alive until it returns.
  asio::awaitable<absl::StatusOr<ScriptArgs>> Prepared(std::string tag,
                                                       std::vector<kafka::OutgoingEvent>& events);

  absl::Status Publish(const std::string& tag,
                       const std::vector<kafka::OutgoingEvent>& events) override;
  absl::Status Drain(const std::string& tag) override;
  asio::awaitable<absl::Status> Published(std::string tag,
                                          std::vector<kafka::OutgoingEvent> events) override;
  asio::awaitable<absl::Status> Drained(std::string tag) override;

  /// Publishes, for every tag, the events stored longer than `grace` ago,
  /// oldest first, passing over those a publish in this process holds (and
  /// later events of their aggregates). UNAVAILABLE when Redis is down.
  absl::StatusOr<RelayReport> RelayOnce();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flywheel::outbox
