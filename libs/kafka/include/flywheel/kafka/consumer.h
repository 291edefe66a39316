#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/record.h"

namespace flywheel::metrics {
class Metrics;
}

namespace flywheel::kafka {

/// Dead-letter headers added to the original record's headers.
inline constexpr char kDeadLetterReasonHeader[] = "flywheel_dlq_reason";
inline constexpr char kDeadLetterTopicHeader[] = "flywheel_dlq_topic";
inline constexpr char kDeadLetterPartitionHeader[] = "flywheel_dlq_partition";
inline constexpr char kDeadLetterOffsetHeader[] = "flywheel_dlq_offset";
inline constexpr char kDeadLetterHandlerHeader[] = "flywheel_dlq_handler";
/// Present when the dead-letter topic refused the record for its size and
/// only the start of its value was kept: says how many bytes the original
/// value had and how many were kept. Fetch the whole record from
/// `flywheel_dlq_topic` at `flywheel_dlq_partition` / `flywheel_dlq_offset`.
inline constexpr char kDeadLetterTruncatedHeader[] = "flywheel_dlq_truncated";

/// How much of a value a dead letter keeps when the whole one is too large.
inline constexpr size_t kDeadLetterKeptValueBytes = 64 * 1024;

struct ConsumerOptions {
  std::string bootstrap_servers;
  std::string group_id;
  /// Static group membership (`group.instance.id`): a member that restarts
  /// under the same id takes its partitions back at once, instead of the
  /// group waiting out the dead member's session (`session.timeout.ms`, 45 s).
  /// It must be stable across restarts of one replica and unique among the
  /// group's live members (a second member with the same id fences the
  /// first). A static member does not leave the group on `Stop()`: its
  /// partitions move to others only when its session times out. Empty:
  /// dynamic membership.
  std::string group_instance_id;
  std::vector<std::string> topics;
  /// Where records that cannot be handled go, with the reason in a header.
  std::string dead_letter_topic;
  /// Names the handler in metrics and logs (`routing.request_submitted`).
  std::string handler_name;
  /// How often consumer lag is refreshed.
  std::chrono::milliseconds stats_interval{5000};
  /// How many partitions are handled at once, each on its own thread. The
  /// records of one partition are always handled one at a time, in order.
  int concurrency = 12;
  /// Backoff bounds for retryable handler failures.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{5000};
  /// When false the handler gets every record raw (`ConsumedEvent::event`
  /// left empty), for tools that read dead-letter topics or replay.
  bool decode_cloud_events = true;
  /// Extra librdkafka properties; they cannot turn on auto offset store.
  std::map<std::string, std::string> properties;
};

/// What the handler sees: the decoded event and the record it came in.
struct ConsumedEvent {
  CloudEvent event;
  Record record;
};

/// Handles one event. Return OK only once the effect is durable (written to
/// Redis, produced and acknowledged): only then is the offset stored.
/// Retryable failures (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
/// RESOURCE_EXHAUSTED) are retried with backoff, holding the partition;
/// any other failure sends the record to the dead-letter topic with the
/// status as reason. The handler must be idempotent on `event.id`: delivery
/// is at least once. It is called from several threads at once (one per
/// partition lane), so it must be thread-safe.
using EventHandler = std::function<absl::Status(const ConsumedEvent&)>;

/// A consumer-group member with at-least-once processing and
/// cooperative-sticky rebalancing. Records that do not decode as CloudEvents
/// go to the dead-letter topic and the consumer goes on. The handler runs on
/// `concurrency` threads of the consumer's own: records of one partition one
/// at a time and in order, different partitions in parallel. Non-copyable.
class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options,
                                                          EventHandler handler,
                                                          metrics::Metrics* metrics = nullptr,
                                                          const Clock* clock = nullptr);
  virtual ~Consumer() = default;

  /// Joins the group and starts consuming on a background thread.
  virtual absl::Status Start() = 0;
  /// Finishes the record in hand, commits stored offsets, leaves the group.
  /// Idempotent.
  virtual void Stop() = 0;
  /// True while the consumer holds at least one partition. Also exported as
  /// `flywheel_kafka_consumer_assigned_partitions{group}`; while it is zero
  /// the consumer logs so every 15 s.
  virtual bool HasAssignment() const = 0;
};

}  // namespace flywheel::kafka
