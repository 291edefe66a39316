#pragma once

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "flywheel/kafka/event_publisher.h"
#include "intake_metrics.h"

namespace flywheel::intake {

struct IntakeOptions {
  /// The request types a submission may name.
  absl::flat_hash_set<std::string> request_types;
  /// Where request lifecycle events go (events::kRequestsTopic, prefixed).
  std::string requests_topic;
};

/// The request types intake knows without any configuration.
absl::flat_hash_set<std::string> DefaultRequestTypes();

/// Accepts work requests: validates them, ranks them, and publishes
/// `request.submitted`. Knows nothing of gRPC; thread-safe.
class Intake {
 public:
  Intake(IntakeOptions options, kafka::EventPublisher& publisher, IntakeMetrics& metrics,
         const Clock& clock);

  /// INVALID_ARGUMENT naming every failing field; UNAVAILABLE when the event
  /// could not be published (nothing was accepted then; the caller retries
  /// with the same idempotency key).
  absl::StatusOr<v1::SubmitRequestResponse> Submit(const v1::SubmitRequestRequest& request);

 private:
  IntakeOptions options_;
  kafka::EventPublisher& publisher_;
  IntakeMetrics& metrics_;
  const Clock& clock_;
};

}  // namespace flywheel::intake
