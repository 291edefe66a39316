#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace flywheel::kafka {

/// How a partition's window is bounded and paced.
struct WindowLimits {
  /// Events a window holds at most before it asks to be paused: fetched and
  /// not yet passed by the stored offset (queued, in the handler, or done
  /// above one that is not). It resumes once at most half of that is left.
  size_t max_in_flight = 2000;
  /// Events handed to the handler in one batch, at most.
  size_t max_batch = 500;
  /// Backoff after a batch with a retryable failure: doubles with each such
  /// batch in a row, up to `retry_max`, and starts again after a clean one.
  absl::Duration retry_initial = absl::Milliseconds(100);
  absl::Duration retry_max = absl::Seconds(5);
};

/// What became of one event of a batch.
enum class EventOutcome {
  /// Handled, or dead-lettered: its offset may be passed.
  kDone,
  /// Failed retryably: handed over again, after a backoff.
  kRetry,
  /// The handler did not get to it (it stopped at an earlier retry, or the
  /// consumer gave up on it): handed over again, no backoff of its own.
  kNotAttempted,
};

/// One partition's events from the stored offset to the newest fetched, and
/// every decision taken on them: which events the handler gets next and in
/// which batch, which offset may be stored, when the partition must be
/// paused and when it may resume. One batch is in the handler at a time, so
/// a partition's events are handed over in order; a retried event comes
/// back before any event behind it that was not done.
///
/// Knows nothing of librdkafka or threads (the caller serialises calls) and
/// takes the time as an argument. `Item` is how an event is carried: a
/// librdkafka message in the consumer, anything movable in a test.
template <typename Item>
class PartitionWindow {
 public:
  struct Entry {
    int64_t offset;
    Item item;
  };
  /// An event of the batch in hand coming back; `item` is kept again unless
  /// the event is done.
  struct Returned {
    int64_t offset;
    EventOutcome outcome;
    Item item;
  };
  /// What the caller must do after a batch came back.
  struct Settled {
    /// The offset to store now (the next one to read) when it moved on: the
    /// oldest event not done, or one past the newest when all are done.
    std::optional<int64_t> store;
    /// The window was paused and has room again: resume the partition.
    bool resume = false;
  };

  explicit PartitionWindow(WindowLimits limits) : limits_(limits) {
    limits_.max_in_flight = std::max<size_t>(1, limits_.max_in_flight);
    limits_.max_batch = std::max<size_t>(1, limits_.max_batch);
  }

  /// A fetched event. Returns true when this filled the window: pause the
  /// partition now. An event is always taken, even into a full window,
  /// because the fetcher has already moved past it. An offset not above the
  /// newest one seen is a duplicate and ignored.
  bool Add(int64_t offset, Item item) {
    if (newest_ && offset <= *newest_) return false;
    newest_ = offset;
    slots_.push_back({offset, State::kQueued, std::move(item)});
    ++queued_;
    if (paused_ || slots_.size() < limits_.max_in_flight) return false;
    paused_ = true;
    return true;
  }

  /// Whether `Take` would hand out a batch at `now`.
  bool Ready(absl::Time now) const { return !in_hand_ && queued_ > 0 && now >= ready_at_; }
  /// Until when the window backs off after a retry (InfinitePast when not).
  absl::Time ready_at() const { return ready_at_; }

  /// The next batch: up to `max_batch` queued events in offset order. Empty
  /// while a batch is in hand, nothing is queued, or the window backs off.
  std::vector<Entry> Take(absl::Time now) {
    std::vector<Entry> batch;
    if (!Ready(now)) return batch;
    for (Slot& slot : slots_) {
      if (batch.size() == limits_.max_batch) break;
      if (slot.state != State::kQueued) continue;
      slot.state = State::kInHand;
      batch.push_back({slot.offset, std::move(*slot.item)});
      slot.item.reset();
    }
    queued_ -= batch.size();
    in_hand_ = !batch.empty();
    return batch;
  }

  /// The batch in hand comes back: each of its events once. Events of it
  /// that are not mentioned stay in hand for good (a caller bug), so the
  /// stored offset never passes them.
  Settled Settle(std::vector<Returned> returned, absl::Time now) {
    bool retried = false;
    for (Returned& r : returned) {
      auto it = std::lower_bound(slots_.begin(), slots_.end(), r.offset,
                                 [](const Slot& s, int64_t offset) { return s.offset < offset; });
      if (it == slots_.end() || it->offset != r.offset || it->state != State::kInHand) continue;
      if (r.outcome == EventOutcome::kDone) {
        it->state = State::kDone;
        continue;
      }
      it->state = State::kQueued;
      it->item = std::move(r.item);
      ++queued_;
      retried = retried || r.outcome == EventOutcome::kRetry;
    }
    in_hand_ = false;
    if (retried) {
      backoff_ = backoff_ == absl::ZeroDuration() ? limits_.retry_initial
                                                  : std::min(backoff_ * 2, limits_.retry_max);
      ready_at_ = now + backoff_;
    } else {
      backoff_ = absl::ZeroDuration();
      ready_at_ = absl::InfinitePast();
    }

    Settled settled;
    while (!slots_.empty() && slots_.front().state == State::kDone) slots_.pop_front();
    const std::optional<int64_t> watermark = this->watermark();
    if (watermark && watermark != stored_) settled.store = stored_ = watermark;
    if (paused_ && slots_.size() <= limits_.max_in_flight / 2) {
      paused_ = false;
      settled.resume = true;
    }
    return settled;
  }

  /// The offset below which every event is done: the oldest event not done,
  /// or one past the newest seen. Nullopt before the first event.
  std::optional<int64_t> watermark() const {
    if (!slots_.empty()) return slots_.front().offset;
    if (newest_) return *newest_ + 1;
    return std::nullopt;
  }

  bool in_hand() const { return in_hand_; }
  bool paused() const { return paused_; }
  /// Events in the window (what a crash now would hand the next owner again,
  /// beyond what was done since the last commit).
  size_t size() const { return slots_.size(); }

 private:
  enum class State { kQueued, kInHand, kDone };
  struct Slot {
    int64_t offset;
    State state;
    std::optional<Item> item;  // set while queued
  };

  WindowLimits limits_;
  std::deque<Slot> slots_;  // by offset
  size_t queued_ = 0;
  bool in_hand_ = false;
  bool paused_ = false;
  std::optional<int64_t> newest_;
  std::optional<int64_t> stored_;
  absl::Duration backoff_ = absl::ZeroDuration();
  absl::Time ready_at_ = absl::InfinitePast();
};

}  // namespace flywheel::kafka
