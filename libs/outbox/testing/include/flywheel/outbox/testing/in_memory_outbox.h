#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "flywheel/kafka/event_publisher.h"
#include "flywheel/outbox/outbox.h"

namespace flywheel::outbox::testing {

/// The test fake of `Outbox`, for the in-memory fakes of service stores: a
/// fake store calls `Store` where the real one's Lua script calls
/// `flywheel_outbox_put()`, and `Busy` where it calls
/// `flywheel_outbox_busy`. Publishes through the given publisher (usually a
/// `kafka::testing::RecordingPublisher`). Held to `RedisOutbox` by the
/// contract suite in redis_outbox_test.cc. Thread-safe.
class InMemoryOutbox final : public Outbox {
 public:
  explicit InMemoryOutbox(kafka::EventPublisher& publisher) : publisher_(publisher) {}

  /// Stores `events` under `tag` as part of a change (ids and times set
  /// here when missing and times cut to the microsecond, as
  /// RedisOutbox::ForScript does).
  void Store(const std::string& tag, std::vector<kafka::OutgoingEvent>& events);
  /// True while events of aggregate `key` are stored under `tag`.
  bool Busy(const std::string& tag, const std::string& key) const;
  /// What is stored under `tag`, oldest first.
  std::vector<kafka::OutgoingEvent> Stored(const std::string& tag) const;

  absl::Status Publish(const std::string& tag,
                       const std::vector<kafka::OutgoingEvent>& events) override;
  absl::Status Drain(const std::string& tag) override;

 private:
  void Remove(const std::string& tag, const std::vector<kafka::OutgoingEvent>& events);

  kafka::EventPublisher& publisher_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<kafka::OutgoingEvent>> stored_;  // guarded by mu_
  int next_id_ = 0;                                                  // guarded by mu_
};

}  // namespace flywheel::outbox::testing
