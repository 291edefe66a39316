#pragma once

#include <asio/awaitable.hpp>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/consumer.h"
#include "lead_scoring.h"

namespace flywheel::lead_scoring {

/// What lead scoring takes in, by `ce_type`: lead.activity (the activity
/// topic) and lead.profile (the profiles topic), binary-mode protobuf or
/// structured-mode JSON. Any other type, undecodable data or data over
/// `max_event_bytes` (1 MiB by default) is refused (INVALID_ARGUMENT with the reason:
/// dead-lettered, no score changes).
///
/// A batch is handled by record key (the lead, or the visitor): one key's
/// events in order, different keys at once, so the batch's Redis work is
/// pipelined. After a failure to be retried, the key's later events are
/// retried too (ABORTED), so one lead's events never overtake each other.
/// Thread-safe; a coroutine (`kafka::AwaitBatches`).
class IncomingEvents {
 public:
  IncomingEvents(LeadScoring& scoring, size_t max_event_bytes)
      : scoring_(scoring), max_event_bytes_(max_event_bytes) {}

  asio::awaitable<std::vector<absl::Status>> Batch(kafka::EventBatch batch);

 private:
  asio::awaitable<absl::Status> One(const kafka::ConsumedEvent& consumed);
  asio::awaitable<std::vector<absl::Status>> Key(const kafka::EventBatch& batch,
                                                 std::vector<size_t> indexes);

  LeadScoring& scoring_;
  const size_t max_event_bytes_;
};

}  // namespace flywheel::lead_scoring
