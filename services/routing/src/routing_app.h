#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::routing {

/// Starts the whole routing process, wired: creates the topics routing reads
/// and dead-letters to if missing, the Redis pool and store, the
/// request-stream consumer feeding the Router, and the gRPC server (health,
/// reflection, metrics). `main.cc` and the integration tests start routing
/// this way.
absl::StatusOr<std::unique_ptr<runtime::App>> StartRouting(const runtime::CommonSettings& settings,
                                                           config::Config& config,
                                                           metrics::Metrics& metrics);

}  // namespace flywheel::routing
