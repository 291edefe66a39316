#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "partition_window.h"
#include "rdkafka_handles.h"

namespace flywheel::kafka {

/// A topic and partition.
using TopicPartition = std::pair<std::string, int32_t>;

/// A batch of one partition's records on its way through the handler. The
/// workers own it (and its librdkafka messages) until it is settled, so a
/// handler that completes late, or never, keeps no librdkafka memory alive.
struct PartitionBatch {
  TopicPartition partition;
  std::vector<PartitionWindow<MessageHandle>::Entry> entries;
  /// One per entry, from the completion: the handler's status, or nullopt
  /// for an event it did not get to.
  std::vector<std::optional<absl::Status>> statuses;
  /// Per entry, what the deliverer wants back at settle time: event times,
  /// and whether it already dead-lettered the record (it did not decode).
  std::vector<std::pair<std::optional<absl::Time>, std::optional<absl::Time>>> times;
  std::vector<bool> dead_lettered;
  absl::Time delivered;
};

/// Names one delivered batch, so a completion finds it (or finds it gone).
struct BatchTicket {
  TopicPartition partition;
  uint64_t generation = 0;  // which assignment of the partition
  uint64_t sequence = 0;    // which batch of that assignment
};

/// Runs the windows of the partitions a consumer holds on a fixed set of
/// threads ("lanes"). Each partition has a `PartitionWindow`; a lane takes a
/// partition whose window is ready, hands its next batch to `deliver`, and
/// when the batch comes back (through `Return`, from any thread) a lane
/// settles it with `settle` and applies the window's decisions: store an
/// offset, resume the partition. The poll thread adds records (`Push`,
/// which never waits) and pauses a partition whose window is full.
///
/// Lanes are not bound to partitions: any lane takes any ready partition, and
/// a handler that completes later frees its lane at once.
class PartitionWorkers : public std::enable_shared_from_this<PartitionWorkers> {
 public:
  struct Callbacks {
    /// On a lane: hands the batch to the handler; `batch` lives for the call
    /// (longer only while it is not settled). Its completion comes back
    /// through `Return(workers, ticket, ...)`, from any thread.
    std::function<void(PartitionBatch& batch, const BatchTicket& ticket,
                       std::weak_ptr<PartitionWorkers> workers)>
        deliver;
    /// On a lane: what became of each event of a returned batch (dead
    /// letters are written here).
    std::function<std::vector<EventOutcome>(PartitionBatch&)> settle;
    /// Under the workers' lock, so pauses and resumes reach librdkafka in the
    /// order they were decided: pause (true) or resume (false) a partition.
    /// Must not call back into the workers.
    std::function<void(const TopicPartition&, bool pause)> pause;
    /// Under the workers' lock: store `offset` as the partition's next offset
    /// to read. Must not call back into the workers.
    std::function<void(const TopicPartition&, int64_t offset)> store;
  };

  static std::shared_ptr<PartitionWorkers> Start(int lanes, WindowLimits limits,
                                                 Callbacks callbacks);
  ~PartitionWorkers();
  PartitionWorkers(const PartitionWorkers&) = delete;
  PartitionWorkers& operator=(const PartitionWorkers&) = delete;

  /// Poll thread: adds a record to its partition's window; pauses the
  /// partition when that filled the window. Never waits.
  void Push(MessageHandle msg);

  /// Any thread: a delivered batch is complete, with one status per entry
  /// (nullopt: not attempted). Ignored for a batch no longer in hand: its
  /// partition was revoked since, the workers stopped, or it already came
  /// back.
  static void Return(const std::weak_ptr<PartitionWorkers>& workers, const BatchTicket& ticket,
                     std::vector<std::optional<absl::Status>> statuses);

  /// Poll thread, in the rebalance callback: the partitions are leaving. No
  /// new batch of theirs is delivered; this waits up to `drain` for their
  /// batches in hand to come back and be settled (storing the offsets of
  /// what they finished), then forgets their windows, resuming any paused
  /// one so a later assignment starts unpaused. Queued records are dropped
  /// unhandled: their offsets were never stored, so the next owner gets
  /// them. Returns how many partitions were dropped with a batch still in
  /// hand.
  int Revoke(const std::vector<TopicPartition>& partitions, absl::Duration drain);

  /// Stopping: takes no more records and drains every window as `Revoke`
  /// does. Returns how many were dropped with a batch still in hand.
  int Close(absl::Duration drain);

  /// Sleeps up to `duration`; returns true early when the partition was
  /// revoked or the workers are stopping (give up, do not store).
  bool SleepUnlessAbandoned(absl::Duration duration, const TopicPartition& partition);

  /// Stops the lanes once they finish what they run now; batches still in a
  /// handler are dropped when they come back. Idempotent.
  void Stop();

  /// For metrics: events in all windows, and partitions paused now.
  int64_t in_flight_events() const { return in_flight_.load(); }
  int paused_partitions() const { return paused_.load(); }

 private:
  struct Partition {
    explicit Partition(WindowLimits limits, uint64_t generation)
        : window(limits), generation(generation) {}
    PartitionWindow<MessageHandle> window;
    uint64_t generation;
    uint64_t sequence = 0;   // of the last batch delivered
    bool scheduled = false;  // in ready_ or delayed_, or run by a lane
    bool revoked = false;
    std::shared_ptr<PartitionBatch> batch;  // in hand (the window says so too)
    bool returned = false;                  // its completion came, not settled yet
  };
  using Ticket = std::pair<TopicPartition, uint64_t>;  // a partition and its generation

  PartitionWorkers(WindowLimits limits, Callbacks callbacks);
  void RunLane();
  void RunPartition(std::unique_lock<std::mutex>& lock, const Ticket& ticket);
  Partition* Find(const Ticket& ticket);
  // Puts a partition that has something to do back in line; otherwise marks
  // it unscheduled.
  void Reschedule(Partition& p, const TopicPartition& partition);
  void Schedule(Partition& p, const TopicPartition& partition);
  void Track(Partition& p, size_t size_before, bool paused_before);

  const WindowLimits limits_;
  const Callbacks callbacks_;
  mutable std::mutex mu_;
  std::condition_variable work_;     // ready_ or delayed_ changed, or stopping
  std::condition_variable changed_;  // a batch settled, a revoke, stopping
  absl::flat_hash_map<TopicPartition, std::unique_ptr<Partition>> partitions_;
  std::deque<Ticket> ready_;
  std::multimap<absl::Time, Ticket> delayed_;  // backing off, by when they are ready
  uint64_t next_generation_ = 0;
  bool closed_ = false;  // Push takes nothing more
  bool stopping_ = false;
  std::vector<std::thread> lanes_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int> paused_{0};
};

}  // namespace flywheel::kafka
