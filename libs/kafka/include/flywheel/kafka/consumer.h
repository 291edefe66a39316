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
  /// Threads the handler runs on (lanes): how many partitions' batches a
  /// blocking handler works on at once. A lane takes whichever partition has
  /// a batch ready; a handler that completes later frees its lane at once.
  /// A partition has at most one batch in the handler at a time.
  int concurrency = 12;
  /// Events of one partition handed to the handler in one batch, at most.
  /// Batches are whatever has arrived up to this size: under load they fill
  /// up, when idle they hold one event.
  int max_batch_events = 500;
  /// Per partition, the window of events fetched and not yet passed by the
  /// stored offset: queued, in the handler, or done above one that is not.
  /// A partition whose window is full is paused (`rd_kafka_pause_partitions`)
  /// and resumed once at most half of it is left; other partitions keep
  /// flowing and the poll loop never waits.
  int max_in_flight_events = 2000;
  /// Backoff bounds for retryable handler failures: per partition, doubling
  /// with each batch in a row that had one.
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{5000};
  /// How long a revoke (or `Stop`) waits for a partition's batch in the
  /// handler to complete before it drops the window. What the batch
  /// finished in that time is stored and committed; a completion arriving
  /// later is ignored and its events go to the partition's next owner.
  std::chrono::milliseconds drain_timeout{30000};
  /// When false the handler gets every record raw (`ConsumedEvent::event`
  /// left empty), for tools that read dead-letter topics or replay.
  bool decode_cloud_events = true;
  /// Extra librdkafka properties; they cannot turn on auto offset store.
  /// `partition.assignment.strategy` defaults to
  /// `DefaultAssignmentStrategy()`.
  std::map<std::string, std::string> properties;
};

/// The `partition.assignment.strategy` a consumer uses unless its
/// properties name one: cooperative-sticky (incremental rebalances) on
/// librdkafka 2.3.0 and later; range (eager: every member gives up its
/// partitions at each rebalance) before it, as on Debian 12's 2.0.2, whose
/// cooperative-sticky assignor aborts the process when a member is
/// destroyed between its first JoinGroup and its first SyncGroup
/// (librdkafka issue 4312): a service stopped while its group rebalances.
const char* DefaultAssignmentStrategy();

/// What the handler sees: the decoded event and the record it came in. The
/// record's key and value are the event's `key` and `data` (moved there, so
/// left empty in `record`) when the event was decoded from binary mode; raw
/// (`decode_cloud_events = false`) the record holds them.
struct ConsumedEvent {
  CloudEvent event;
  Record record;
};

/// Handles one event. Return OK only once the effect is durable (written to
/// Redis, produced and acknowledged): only then is the offset stored.
/// Retryable failures (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
/// RESOURCE_EXHAUSTED) are retried with backoff, holding the partition: the
/// events behind it wait. Any other failure sends the record to the
/// dead-letter topic with the status as reason. The handler must be
/// idempotent on `event.id`: delivery is at least once. It is called from
/// several threads at once (one per lane), so it must be thread-safe.
using EventHandler = std::function<absl::Status(const ConsumedEvent&)>;

/// A batch of one partition's events, in offset order.
struct EventBatch {
  std::string topic;
  int32_t partition = -1;
  std::vector<ConsumedEvent> events;
};

/// Completes a batch: `statuses[i]` is the outcome of `events[i]`, with the
/// meaning an `EventHandler`'s return has (OK once durable; retryable codes
/// retried after a backoff, before any later event of the partition that is
/// not done; anything else dead-lettered with the status as reason). A
/// vector shorter than the batch says the handler did not get to the rest:
/// they come again right after the retries, in order, and count as neither
/// handled nor retried. Call it exactly once, from any thread; later calls
/// do nothing. Dropping it uncalled counts the whole batch as ABORTED
/// (retried). After a revoke's `drain_timeout`, or once the consumer has
/// stopped, a completion is ignored.
using BatchDone = std::function<void(std::vector<absl::Status> statuses)>;

/// Handles a batch of one partition's events. It may work synchronously and
/// call `done` before returning, or start the work for the whole batch (one
/// pipelined Redis round trip, the batch's events produced together) and
/// call `done` once when it is durable, from whatever thread learns that;
/// the batch is the handler's to keep until then. The partition's next
/// batch comes only after `done`, so its events are handed over in order;
/// other partitions' batches run meanwhile, also on other lanes. The stored
/// offset never passes an event that is not done. Idempotence and thread
/// safety as for `EventHandler`.
using BatchHandler = std::function<void(EventBatch batch, BatchDone done)>;

/// An `EventHandler` as a batch handler: events one at a time in order; at
/// a failure it stops, so the events behind it wait until the failed one is
/// retried or dead-lettered, as they did when records came one at a time.
BatchHandler PerEvent(EventHandler handler);

/// A consumer-group member with at-least-once processing, rebalanced by
/// `DefaultAssignmentStrategy()` unless told otherwise. Records that do not decode as CloudEvents
/// go to the dead-letter topic and the consumer goes on. Each partition
/// keeps a bounded window of events in flight (see `max_in_flight_events`);
/// offsets are stored up to the oldest event that is not done and committed
/// by librdkafka's auto commit (`auto.commit.interval.ms`, 5 s, and at every
/// revoke). A crash hands the next owner each partition's window plus what
/// was done since the last commit; idempotent handlers absorb it.
/// The handler runs on `concurrency` threads of the consumer's own.
/// Non-copyable.
///
/// Metrics: `flywheel_kafka_consumer_in_flight_events{group}` (events in
/// this member's windows), `flywheel_kafka_consumer_paused_partitions{group}`,
/// `flywheel_kafka_handler_batches_total{handler}` (batches handed to the
/// handler), besides the per-event
/// `flywheel_kafka_handled_events_total{handler,outcome}`.
class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options,
                                                          EventHandler handler,
                                                          metrics::Metrics* metrics = nullptr,
                                                          const Clock* clock = nullptr);
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options,
                                                          BatchHandler handler,
                                                          metrics::Metrics* metrics = nullptr,
                                                          const Clock* clock = nullptr);
  virtual ~Consumer() = default;

  /// Joins the group and starts consuming on a background thread.
  virtual absl::Status Start() = 0;
  /// Stops polling, waits (up to `drain_timeout`) for the batches in the
  /// handler, commits stored offsets, leaves the group. Idempotent.
  virtual void Stop() = 0;
  /// True while the consumer holds at least one partition. Also exported as
  /// `flywheel_kafka_consumer_assigned_partitions{group}`; while it is zero
  /// the consumer logs so every 15 s.
  virtual bool HasAssignment() const = 0;
};

}  // namespace flywheel::kafka
