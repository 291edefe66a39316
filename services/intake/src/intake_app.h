#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::intake {

/// Starts the whole intake process, wired: creates the topics intake writes
/// to if missing, the Kafka producer, the Intake logic and its gRPC server.
/// `main.cc` and the integration tests start intake this way.
absl::StatusOr<std::unique_ptr<runtime::App>> StartIntake(const runtime::CommonSettings& settings,
                                                          config::Config& config,
                                                          metrics::Metrics& metrics);

}  // namespace flywheel::intake
