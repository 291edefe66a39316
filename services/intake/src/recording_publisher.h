#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "flywheel/kafka/event_publisher.h"

namespace flywheel::intake {

/// Test fake: records what would have been published; `fail_with` makes
/// every publish fail. Thread-safe.
class RecordingPublisher final : public kafka::EventPublisher {
 public:
  absl::StatusOr<std::string> Publish(const kafka::OutgoingEvent& event) override {
    std::lock_guard lock(mu_);
    if (!fail_with.ok()) return fail_with;
    published.push_back(event);
    return event.id.empty() ? "evt_" + std::to_string(published.size()) : event.id;
  }

  std::vector<kafka::OutgoingEvent> published;
  absl::Status fail_with;

 private:
  std::mutex mu_;
};

}  // namespace flywheel::intake
