#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/record.h"

namespace flywheel::kafka {

class Producer;

/// An event a service wants published; the publisher adds the envelope.
struct OutgoingEvent {
  std::string topic;
  /// CloudEvents `type`, such as `dev.flywheel.request.submitted.v1`.
  std::string type;
  /// The aggregate id; becomes the record key.
  std::string key;
  /// The serialized protobuf payload.
  std::string data;
  /// Optional CloudEvents `subject`.
  std::string subject;
  /// Extension attributes (`tenant`), published as `ce_<name>` headers.
  std::map<std::string, std::string> extensions;
  /// The event id; a fresh random id when empty. Set it to derive the id from
  /// the cause, so a retried publish is recognised downstream as the same event.
  std::string id;
  /// When the fact happened (`ce_time`); the publisher's clock when empty.
  /// An event published later than it happened (from an outbox) keeps it.
  std::optional<absl::Time> time;
};

/// What an asynchronous publish reports: every event's id in order once all
/// are acknowledged, or the first failure (some events may then have been
/// written).
using PublishDone = std::function<void(absl::StatusOr<std::vector<std::string>> ids)>;

/// Publishes events as CloudEvents (binary mode, protobuf payload). The seam
/// services use, so their logic is tested with a recording fake.
class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  /// Returns once the broker has acknowledged the event (acks=all), with the
  /// event id written; the caller may then report success. Thread-safe.
  virtual absl::StatusOr<std::string> Publish(const OutgoingEvent& event) = 0;

  /// Publishes several events at once and returns once every one is
  /// acknowledged, with their ids in order; the first failure otherwise
  /// (some events may then have been written: publish idempotently, with
  /// ids derived from the cause). Costs one round trip instead of one per
  /// event. The default publishes one after another.
  virtual absl::StatusOr<std::vector<std::string>> PublishAll(
      const std::vector<OutgoingEvent>& events);

  /// Queues the events and returns without waiting; `done` runs exactly once
  /// when every one is acknowledged or one has failed for good, so a batch
  /// handler or an RPC produces all its events and learns the outcome once,
  /// without a thread waiting for it. `done` runs on the producer's delivery
  /// thread and must not block (hand longer work elsewhere); when the events
  /// cannot even be queued it runs on the caller's thread before this
  /// returns. The default publishes with `PublishAll` and then calls `done`.
  virtual void PublishAsync(std::vector<OutgoingEvent> events, PublishDone done);
};

/// The Kafka implementation. `source` is the CloudEvents source of every
/// event (`//flywheel/intake`); `clock` stamps `ce_time`.
class KafkaEventPublisher final : public EventPublisher {
 public:
  KafkaEventPublisher(Producer& producer, std::string source,
                      const Clock& clock = SystemClock::Instance());
  absl::StatusOr<std::string> Publish(const OutgoingEvent& event) override;
  absl::StatusOr<std::vector<std::string>> PublishAll(
      const std::vector<OutgoingEvent>& events) override;
  void PublishAsync(std::vector<OutgoingEvent> events, PublishDone done) override;

 private:
  absl::StatusOr<Record> Envelope(const OutgoingEvent& event, std::string* id) const;

  Producer& producer_;
  std::string source_;
  const Clock& clock_;
};

}  // namespace flywheel::kafka
