#pragma once

#include <asio/awaitable.hpp>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flywheel/kafka/consumer.h"
#include "lead_scoring.h"

namespace flywheel::lead_scoring {

/// What lead scoring takes in, by `ce_type`: lead.activity (the activity
/// topic) and lead.profile (the profiles topic), binary-mode protobuf or
/// structured-mode JSON. Any other type, undecodable data or data over
/// `max_event_bytes` (1 MiB by default) is refused (INVALID_ARGUMENT with the reason:
/// dead-lettered, no score changes).
///
/// A batch's decoded events are applied together (`LeadScoring::Apply`):
/// one lead's events in order, one Redis round trip to read and one to
/// write per tenant; a refused event is dead-lettered while the rest score.
/// Thread-safe; a coroutine (`kafka::AwaitBatches`).
class IncomingEvents {
 public:
  IncomingEvents(LeadScoring& scoring, size_t max_event_bytes)
      : scoring_(scoring), max_event_bytes_(max_event_bytes) {}

  asio::awaitable<std::vector<absl::Status>> Batch(kafka::EventBatch batch);

 private:
  absl::StatusOr<LeadEvent> Decode(const kafka::ConsumedEvent& consumed) const;

  LeadScoring& scoring_;
  const size_t max_event_bytes_;
};

}  // namespace flywheel::lead_scoring
