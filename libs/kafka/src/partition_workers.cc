#include "partition_workers.h"

#include "absl/hash/hash.h"

namespace flywheel::kafka {
namespace {

TopicPartition PartitionOf(const rd_kafka_message_t& msg) {
  return {rd_kafka_topic_name(msg.rkt), msg.partition};
}

}  // namespace

PartitionWorkers::PartitionWorkers(int lanes, size_t max_queued_per_lane, Handle handle)
    : max_queued_(std::max<size_t>(1, max_queued_per_lane)), handle_(std::move(handle)) {
  for (int i = 0; i < std::max(1, lanes); ++i) lanes_.push_back(std::make_unique<Lane>());
  for (auto& lane : lanes_) {
    lane->thread = std::thread([this, l = lane.get()] { RunLane(*l); });
  }
}

PartitionWorkers::~PartitionWorkers() { Stop(); }

PartitionWorkers::Lane& PartitionWorkers::LaneOf(const TopicPartition& partition) {
  // Consecutive partitions of a topic land on different lanes.
  const size_t spread = absl::Hash<std::string>()(partition.first) + partition.second;
  return *lanes_[spread % lanes_.size()];
}

bool PartitionWorkers::Push(MessageHandle msg) {
  const TopicPartition partition = PartitionOf(*msg);
  Lane& lane = LaneOf(partition);
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return stopping_ || lane.queue.size() < max_queued_; });
  if (stopping_) return false;
  ++in_flight_[partition];
  lane.queue.push_back(std::move(msg));
  lane.ready.notify_one();
  return true;
}

void PartitionWorkers::RunLane(Lane& lane) {
  while (true) {
    MessageHandle msg;
    TopicPartition partition;
    bool drop = false;
    {
      std::unique_lock lock(mu_);
      lane.ready.wait(lock, [&] { return stopping_ || !lane.queue.empty(); });
      if (lane.queue.empty()) return;  // stopping, and nothing left to drop
      msg = std::move(lane.queue.front());
      lane.queue.pop_front();
      partition = PartitionOf(*msg);
      drop = stopping_ || revoked_.contains(partition);
      changed_.notify_all();  // room in this lane
    }
    if (!drop) handle_(std::move(msg));
    msg.reset();
    std::lock_guard lock(mu_);
    if (--in_flight_[partition] == 0) in_flight_.erase(partition);
    changed_.notify_all();
  }
}

void PartitionWorkers::Revoke(const std::vector<TopicPartition>& partitions) {
  std::unique_lock lock(mu_);
  for (const auto& p : partitions) revoked_.insert(p);
  // Drop their queued records now rather than when each lane reaches them,
  // so the revoke does not wait behind other partitions' work.
  for (auto& lane : lanes_) {
    for (auto it = lane->queue.begin(); it != lane->queue.end();) {
      const TopicPartition partition = PartitionOf(**it);
      if (!revoked_.contains(partition)) {
        ++it;
        continue;
      }
      it = lane->queue.erase(it);
      if (--in_flight_[partition] == 0) in_flight_.erase(partition);
    }
  }
  changed_.notify_all();
  for (auto& lane : lanes_) lane->ready.notify_all();
  changed_.wait(lock, [&] {
    for (const auto& p : partitions) {
      if (in_flight_.contains(p)) return false;
    }
    return true;
  });
}

void PartitionWorkers::ClearRevoked(const std::vector<TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  for (const auto& p : partitions) revoked_.erase(p);
}

bool PartitionWorkers::SleepUnlessAbandoned(absl::Duration duration,
                                            const TopicPartition& partition) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoMilliseconds(duration),
                           [&] { return stopping_ || revoked_.contains(partition); });
}

void PartitionWorkers::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    changed_.notify_all();
    for (auto& lane : lanes_) lane->ready.notify_all();
  }
  for (auto& lane : lanes_) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

}  // namespace flywheel::kafka
