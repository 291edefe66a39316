#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/event_publisher.h"

namespace flywheel::kafka::testing {

/// The one test fake of `EventPublisher`: records every event it is asked to
/// publish, in order, and fails every publish while `FailWith` holds an
/// error. Thread-safe, like the real publisher, so handlers running on
/// several lanes can share it.
class RecordingPublisher final : public EventPublisher {
 public:
  absl::StatusOr<std::string> Publish(const OutgoingEvent& event) override {
    std::lock_guard lock(mu_);
    if (!fail_with_.ok()) return fail_with_;
    published_.push_back(event);
    return event.id.empty() ? "evt_" + std::to_string(published_.size()) : event.id;
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
  mutable std::mutex mu_;
  std::vector<OutgoingEvent> published_;
  absl::Status fail_with_;
};

}  // namespace flywheel::kafka::testing
