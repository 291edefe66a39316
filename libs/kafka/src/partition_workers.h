#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "rdkafka_handles.h"

namespace flywheel::kafka {

/// A topic and partition.
using TopicPartition = std::pair<std::string, int32_t>;

/// Runs consumed records on a fixed set of threads ("lanes"). Every record of
/// one partition goes to the same lane, so a partition's records are handled
/// one at a time and in order while different partitions proceed in
/// parallel. Used by the consumer's poll thread (Push, Revoke) and its lanes.
class PartitionWorkers {
 public:
  /// Handles one record on a lane thread: process it and store its offset.
  using Handle = std::function<void(MessageHandle)>;

  PartitionWorkers(int lanes, size_t max_queued_per_lane, Handle handle);
  ~PartitionWorkers();
  PartitionWorkers(const PartitionWorkers&) = delete;
  PartitionWorkers& operator=(const PartitionWorkers&) = delete;

  /// Queues a record on its partition's lane, waiting while that lane is
  /// full. False (and the record dropped) once stopping.
  ///
  /// Known limit: while a lane is full the poll thread waits here, so a
  /// partition stuck in retries for longer than max.poll.interval.ms makes
  /// librdkafka leave the group. Pausing just that partition would avoid it.
  bool Push(MessageHandle msg);

  /// Partitions are leaving this member: their queued records are dropped
  /// unhandled (their offsets were never stored, so the next owner gets
  /// them), a record of theirs in hand is told to give up retrying, and this
  /// returns once none of their records is queued or in hand.
  void Revoke(const std::vector<TopicPartition>& partitions);
  /// Forgets revoked partitions once they are unassigned, so a later
  /// assignment of the same partition is handled again.
  void ClearRevoked(const std::vector<TopicPartition>& partitions);

  /// Sleeps up to `duration`; returns true early when the record's partition
  /// was revoked or the workers are stopping (give up, do not store).
  bool SleepUnlessAbandoned(absl::Duration duration, const TopicPartition& partition);

  /// Drops everything queued, lets records in hand finish (or give up their
  /// retries), and joins the lanes. Idempotent.
  void Stop();

 private:
  struct Lane {
    std::deque<MessageHandle> queue;
    std::condition_variable ready;
    std::thread thread;
  };

  void RunLane(Lane& lane);
  Lane& LaneOf(const TopicPartition& partition);

  const size_t max_queued_;
  const Handle handle_;
  std::mutex mu_;
  std::condition_variable changed_;  // space in a lane, a record done, revoke, stop
  std::vector<std::unique_ptr<Lane>> lanes_;
  absl::flat_hash_map<TopicPartition, int> in_flight_;  // queued or in hand, per partition
  absl::flat_hash_set<TopicPartition> revoked_;
  bool stopping_ = false;
};

}  // namespace flywheel::kafka
