#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/kafka/event_publisher.h"
#include "intake.h"
#include "intake_metrics.h"

namespace flywheel::intake {

/// Handles `RequestSubmissionReceived` events from the submissions topic:
/// the event-driven twin of SubmitRequest, with the same validation and
/// idempotency (keyed by tenant and idempotency key).
///
/// A submission that cannot be accepted (wrong ce_type, payload over 1 MiB,
/// not decodable, invalid, idempotency key reused with another spec) first
/// gets a RequestRejected event on the requests topic, keyed by its
/// idempotency key (the record key when the payload does not decode), with
/// the event id derived from the submission's so a retry does not duplicate
/// it; then the handler returns INVALID_ARGUMENT with the reason, which
/// sends the record to the dead-letter topic. Nothing is stored for it.
/// Store or broker outages are returned as they are (UNAVAILABLE), so the
/// consumer retries. A coroutine (`kafka::AwaitEach`), for many partitions
/// at once; keeps no state of its own.
class SubmissionsHandler {
 public:
  /// OK when events from producer `source` may name `tenant`
  /// (`auth::Authenticator::CheckEventProducer`).
  using ProducerCheck =
      std::function<absl::Status(std::string_view source, std::string_view tenant)>;

  /// `producer_check`, when set, refuses a submission whose CloudEvents
  /// source may not publish for its tenant: rejected like an invalid one,
  /// with the check's PERMISSION_DENIED as the reason.
  SubmissionsHandler(Intake& intake, kafka::EventPublisher& publisher, std::string requests_topic,
                     IntakeMetrics& metrics, ProducerCheck producer_check = nullptr);

  asio::awaitable<absl::Status> Handle(const kafka::ConsumedEvent& consumed);

 private:
  struct Rejection {
    std::string tenant_id;
    std::string idempotency_key;
    std::string metric_reason;
    absl::Status status;
  };
  // Why the event is refused before intake sees it, if it is; decodes
  // `submission` on the way.
  std::optional<Rejection> Screen(const kafka::ConsumedEvent& consumed,
                                  v1::RequestSubmissionReceived& submission) const;
  // By value: the coroutine keeps it across its wait.
  asio::awaitable<absl::Status> Reject(const kafka::ConsumedEvent& consumed, Rejection rejection);

  Intake& intake_;
  kafka::EventPublisher& publisher_;
  const std::string requests_topic_;
  IntakeMetrics& metrics_;
  ProducerCheck producer_check_;
};

/// The request id intake names in a RequestRejected: derived from tenant and
/// idempotency key, so every rejection of one submission names the same id.
std::string RejectedRequestId(const std::string& tenant_id, const std::string& idempotency_key);

}  // namespace flywheel::intake
