#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::routing {

/// The running routing process.
class RoutingApp : public runtime::App {
 public:
  /// Reloads the policy file now, as SIGHUP or a file change does: a valid
  /// file replaces the running policy, an invalid one is refused with its
  /// errors and the running policy stays. FAILED_PRECONDITION when the
  /// process runs on the built-in default policy (no `routing.policy_file`).
  virtual absl::Status ReloadPolicyNow() = 0;
};

/// Starts the whole routing process, wired: reads `routing.policy_file`
/// (default: the built-in policy/default.yaml) and keeps it live with a
/// `runtime::Reloader`; creates the topics routing reads and writes if
/// missing; the Redis pool and workflow store; the request-stream consumer
/// feeding the Router; the gRPC server with RoutingService (plus health,
/// reflection, metrics). `main.cc` and the integration tests start routing
/// this way.
absl::StatusOr<std::unique_ptr<RoutingApp>> StartRouting(const runtime::CommonSettings& settings,
                                                         config::Config& config,
                                                         metrics::Metrics& metrics);

/// `flywheel-routing --validate FILE`: parses and checks a policy file.
absl::Status ValidatePolicyFile(const std::string& path);

}  // namespace flywheel::routing
