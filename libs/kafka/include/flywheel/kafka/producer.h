#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flywheel/kafka/record.h"

namespace flywheel::metrics {
class Metrics;
}

namespace flywheel::kafka {

struct ProducerOptions {
  std::string bootstrap_servers;
  std::string client_id = "flywheel";
  /// How long records may wait to be batched. Short, because the platform's
  /// producers mostly wait for the acknowledgement before answering.
  std::chrono::milliseconds linger{1};
  /// How long Send() waits for room when the local queue is full before it
  /// reports RESOURCE_EXHAUSTED.
  std::chrono::milliseconds queue_full_wait{5000};
  /// Extra librdkafka properties; they cannot turn off idempotence or acks=all.
  std::map<std::string, std::string> properties;
};

/// The broker's answer for one record: OK with the partition and offset it
/// was written at, or why it was not written.
using DeliveryCallback = std::function<void(const absl::Status&, const Record&)>;

/// An idempotent producer (`enable.idempotence=true`, `acks=all`): each
/// record is written once and in order per partition, even across retries.
/// Thread-safe; non-copyable. Owns one background thread that serves
/// delivery reports.
class Producer {
 public:
  /// Fails with INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ProducerOptions& options,
                                                          metrics::Metrics* metrics = nullptr);
  virtual ~Producer() = default;

  /// Queues `record` (topic, key, value, headers are used; a partition of 0
  /// or more pins the record there, otherwise the key chooses). `done` runs once
  /// on the producer's delivery thread when the broker has acknowledged the
  /// record or it has failed for good; it must not block.
  virtual void Send(Record record, DeliveryCallback done) = 0;

  /// Sends and waits for the broker's acknowledgement; returns the written
  /// record with partition and offset.
  virtual absl::StatusOr<Record> SendAndWait(Record record) = 0;

  /// Waits until every queued record is delivered or `timeout` passes.
  virtual absl::Status Flush(std::chrono::milliseconds timeout) = 0;

  /// Learns where `topics` live (their metadata) now, so the first record
  /// sent to each does not wait for it: a fresh producer's first records to
  /// a topic otherwise took up to a second. Waits up to `timeout` for each;
  /// UNAVAILABLE naming the topic when its metadata did not come.
  virtual absl::Status Prepare(const std::vector<std::string>& topics,
                               std::chrono::milliseconds timeout) = 0;
};

/// True when a Send failed because the record is larger than the producer's
/// `message.max.bytes` or the topic's `max.message.bytes` allows: sending it
/// again unchanged fails again.
bool IsRecordTooLarge(const absl::Status& status);

}  // namespace flywheel::kafka
