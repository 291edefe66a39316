#include "partition_workers.h"

#include <algorithm>

namespace flywheel::kafka {
namespace {

TopicPartition PartitionOf(const rd_kafka_message_t& msg) {
  return {rd_kafka_topic_name(msg.rkt), msg.partition};
}

}  // namespace

std::shared_ptr<PartitionWorkers> PartitionWorkers::Start(int lanes, WindowLimits limits,
                                                          Callbacks callbacks) {
  std::shared_ptr<PartitionWorkers> workers(new PartitionWorkers(limits, std::move(callbacks)));
  for (int i = 0; i < std::max(1, lanes); ++i) {
    workers->lanes_.emplace_back([w = workers.get()] { w->RunLane(); });
  }
  return workers;
}

PartitionWorkers::PartitionWorkers(WindowLimits limits, Callbacks callbacks)
    : limits_(limits), callbacks_(std::move(callbacks)) {}

PartitionWorkers::~PartitionWorkers() { Stop(); }

PartitionWorkers::Partition* PartitionWorkers::Find(const Ticket& ticket) {
  auto it = partitions_.find(ticket.first);
  if (it == partitions_.end() || it->second->generation != ticket.second) return nullptr;
  return it->second.get();
}

void PartitionWorkers::Track(Partition& p, size_t size_before, bool paused_before) {
  in_flight_ += static_cast<int64_t>(p.window.size()) - static_cast<int64_t>(size_before);
  paused_ += static_cast<int>(p.window.paused()) - static_cast<int>(paused_before);
}

void PartitionWorkers::Schedule(Partition& p, const TopicPartition& partition) {
  p.scheduled = true;
  ready_.emplace_back(partition, p.generation);
  work_.notify_one();
}

void PartitionWorkers::Reschedule(Partition& p, const TopicPartition& partition) {
  const absl::Time now = absl::Now();
  if (p.returned || (!p.revoked && p.window.Ready(now))) {
    ready_.emplace_back(partition, p.generation);
    work_.notify_one();
    return;
  }
  const absl::Time at = p.window.ready_at();
  if (!p.revoked && at > now && p.window.Ready(at)) {
    delayed_.emplace(at, Ticket{partition, p.generation});
    work_.notify_one();  // a waiting lane may need to wake earlier now
    return;
  }
  p.scheduled = false;
}

void PartitionWorkers::Push(MessageHandle msg) {
  const TopicPartition partition = PartitionOf(*msg);
  const int64_t offset = msg->offset;
  std::lock_guard lock(mu_);
  if (stopping_ || closed_) return;
  std::unique_ptr<Partition>& slot = partitions_[partition];
  if (!slot) slot = std::make_unique<Partition>(limits_, ++next_generation_);
  Partition& p = *slot;
  if (p.revoked) return;
  const size_t size_before = p.window.size();
  const bool paused_before = p.window.paused();
  if (p.window.Add(offset, std::move(msg))) {
    callbacks_.pause(partition, true);
  }
  Track(p, size_before, paused_before);
  if (!p.scheduled && p.window.Ready(absl::Now())) Schedule(p, partition);
}

void PartitionWorkers::Return(const std::weak_ptr<PartitionWorkers>& workers,
                              const BatchTicket& ticket,
                              std::vector<std::optional<absl::Status>> statuses) {
  std::shared_ptr<PartitionWorkers> self = workers.lock();
  if (!self) return;
  std::lock_guard lock(self->mu_);
  if (self->stopping_) return;
  Partition* p = self->Find({ticket.partition, ticket.generation});
  if (p == nullptr || !p->batch || p->returned || p->sequence != ticket.sequence) return;
  p->batch->statuses = std::move(statuses);
  p->returned = true;
  if (!p->scheduled) self->Schedule(*p, ticket.partition);
}

void PartitionWorkers::RunLane() {
  std::unique_lock lock(mu_);
  while (true) {
    const absl::Time now = absl::Now();
    bool moved = false;
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      ready_.push_back(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      moved = true;
    }
    if (moved) work_.notify_all();
    if (stopping_) return;
    if (ready_.empty()) {
      if (delayed_.empty()) {
        work_.wait(lock);
      } else {
        work_.wait_until(lock, absl::ToChronoTime(delayed_.begin()->first));
      }
      continue;
    }
    const Ticket ticket = std::move(ready_.front());
    ready_.pop_front();
    RunPartition(lock, ticket);
  }
}

void PartitionWorkers::RunPartition(std::unique_lock<std::mutex>& lock, const Ticket& ticket) {
  const TopicPartition& partition = ticket.first;
  Partition* p = Find(ticket);
  if (p == nullptr) return;  // revoked and forgotten since it was queued
  if (p->returned) {
    std::shared_ptr<PartitionBatch> batch = p->batch;
    lock.unlock();
    std::vector<EventOutcome> outcomes = callbacks_.settle(*batch);
    lock.lock();
    if ((p = Find(ticket)) == nullptr) return;
    std::vector<PartitionWindow<MessageHandle>::Returned> back;
    back.reserve(batch->entries.size());
    for (size_t i = 0; i < batch->entries.size(); ++i) {
      back.push_back({batch->entries[i].offset,
                      i < outcomes.size() ? outcomes[i] : EventOutcome::kNotAttempted,
                      std::move(batch->entries[i].item)});
    }
    p->batch.reset();
    p->returned = false;
    const size_t size_before = p->window.size();
    const bool paused_before = p->window.paused();
    const auto settled = p->window.Settle(std::move(back), absl::Now());
    if (settled.store) callbacks_.store(partition, *settled.store);
    if (settled.resume) callbacks_.pause(partition, false);
    Track(*p, size_before, paused_before);
    changed_.notify_all();
  }
  if (!p->revoked && !stopping_ && p->window.Ready(absl::Now())) {
    auto batch = std::make_shared<PartitionBatch>();
    batch->partition = partition;
    batch->entries = p->window.Take(absl::Now());
    batch->delivered = absl::Now();
    p->batch = batch;
    const BatchTicket delivered{partition, p->generation, ++p->sequence};
    lock.unlock();
    callbacks_.deliver(*batch, delivered, weak_from_this());
    batch.reset();  // may be the last reference, when revoked meanwhile
    lock.lock();
    if ((p = Find(ticket)) == nullptr) return;
  }
  Reschedule(*p, partition);
}

int PartitionWorkers::Revoke(const std::vector<TopicPartition>& partitions, absl::Duration drain) {
  std::unique_lock lock(mu_);
  for (const TopicPartition& tp : partitions) {
    if (auto it = partitions_.find(tp); it != partitions_.end()) it->second->revoked = true;
  }
  changed_.notify_all();  // dead-letter retries of theirs give up
  changed_.wait_until(lock, absl::ToChronoTime(absl::Now() + drain), [&] {
    if (stopping_) return true;
    return std::none_of(partitions.begin(), partitions.end(), [&](const TopicPartition& tp) {
      auto it = partitions_.find(tp);
      return it != partitions_.end() && it->second->window.in_hand();
    });
  });
  int dropped_in_hand = 0;
  for (const TopicPartition& tp : partitions) {
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) continue;
    Partition& p = *it->second;
    if (p.window.in_hand()) ++dropped_in_hand;
    // librdkafka keeps an application pause across a revoke: lift it, or a
    // later assignment of this partition would never be fetched.
    if (p.window.paused()) callbacks_.pause(tp, false);
    in_flight_ -= static_cast<int64_t>(p.window.size());
    paused_ -= static_cast<int>(p.window.paused());
    partitions_.erase(it);
  }
  changed_.notify_all();
  return dropped_in_hand;
}

int PartitionWorkers::Close(absl::Duration drain) {
  std::vector<TopicPartition> all;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (const auto& [partition, p] : partitions_) all.push_back(partition);
  }
  return Revoke(all, drain);
}

bool PartitionWorkers::SleepUnlessAbandoned(absl::Duration duration,
                                            const TopicPartition& partition) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoMilliseconds(duration), [&] {
    if (stopping_) return true;
    auto it = partitions_.find(partition);
    return it == partitions_.end() || it->second->revoked;
  });
}

void PartitionWorkers::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    work_.notify_all();
    changed_.notify_all();
  }
  for (std::thread& lane : lanes_) {
    if (lane.joinable()) lane.join();
  }
  // Queued records hold librdkafka messages, which must be gone before the
  // consumer handle is destroyed.
  std::lock_guard lock(mu_);
  partitions_.clear();
  ready_.clear();
  delayed_.clear();
  in_flight_ = 0;
  paused_ = 0;
}

}  // namespace flywheel::kafka
