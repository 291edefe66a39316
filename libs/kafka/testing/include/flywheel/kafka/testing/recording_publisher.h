#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::kafka::testing {

/// The one test fake of `EventPublisher`: records every event it is asked to
/// publish, in order, and fails every publish while `FailWith` holds an
/// error. While `HoldAcks` is on, `PublishAsync` records its events (the
/// broker has them; a consumer reads them) and holds their acknowledgement
/// until `ReleaseAcks`: a broker that is merely slow to answer. Thread-safe,
/// like the real publisher, so handlers running on several lanes can share
/// it.
class RecordingPublisher final : public EventPublisher {
 public:
  absl::StatusOr<std::string> Publish(const OutgoingEvent& event) override {
    std::lock_guard lock(mu_);
    if (!fail_with_.ok()) return fail_with_;
    published_.push_back(event);
    return event.id.empty() ? "evt_" + std::to_string(published_.size()) : event.id;
  }

  void PublishAsync(std::vector<OutgoingEvent> events, PublishDone done) override {
    absl::StatusOr<std::vector<std::string>> ids = PublishAll(events);
    {
      std::lock_guard lock(mu_);
      if (holding_) {
        held_.push_back({std::move(done), std::move(ids)});
        return;
      }
    }
    done(std::move(ids));
  }

  /// From now on `PublishAsync` holds every acknowledgement (see above).
  void HoldAcks() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  /// Answers every held `PublishAsync`, on the caller's thread, and holds no
  /// more.
  void ReleaseAcks() {
    std::vector<Held> held;
    {
      std::lock_guard lock(mu_);
      holding_ = false;
      held.swap(held_);
    }
    for (Held& h : held) h.done(std::move(h.ids));
  }

  /// Every publish fails with `status` from now on; OK makes them work again.
  void FailWith(absl::Status status) {
    std::lock_guard lock(mu_);
    fail_with_ = std::move(status);
  }

  /// What was published so far, in order (a copy).
  std::vector<OutgoingEvent> published() const {
    std::lock_guard lock(mu_);
    return published_;
  }
  /// The published events of one CloudEvents type, in order.
  std::vector<OutgoingEvent> OfType(const std::string& type) const {
    std::vector<OutgoingEvent> out;
    for (OutgoingEvent& event : published()) {
      if (event.type == type) out.push_back(std::move(event));
    }
    return out;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return published_.size();
  }
  void Clear() {
    std::lock_guard lock(mu_);
    published_.clear();
  }

 private:
  // A `PublishAsync` recorded but not yet answered.
  struct Held {
    PublishDone done;
    absl::StatusOr<std::vector<std::string>> ids;
  };

  mutable std::mutex mu_;
  std::vector<OutgoingEvent> published_;
  absl::Status fail_with_;
  bool holding_ = false;
  std::vector<Held> held_;
};

}  // namespace flywheel::kafka::testing
