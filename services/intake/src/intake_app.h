#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::intake {

/// The config key naming intake's policy file (tenants, request types,
/// priority rules). Unset: the shipped services/intake/policy/default.yaml,
/// compiled in.
inline constexpr char kPolicyFileKey[] = "intake.policy_file";

/// The largest gRPC message intake accepts: a 1 MiB submission plus room for
/// the envelope. Anything bigger is RESOURCE_EXHAUSTED from gRPC itself.
inline constexpr int kMaxGrpcMessageBytes = 1024 * 1024 + 16 * 1024;

/// Starts the whole intake process, wired: creates the topics intake uses if
/// missing, loads the policy (and keeps it live with a `runtime::Reloader`
/// when it comes from a file), connects Redis and Kafka, starts the
/// submissions consumer, the consumer of routing's workflow events (request
/// status), the outbox relay and the gRPC server. `main.cc` and the integration
/// tests start intake this way.
absl::StatusOr<std::unique_ptr<runtime::App>> StartIntake(const runtime::CommonSettings& settings,
                                                          config::Config& config,
                                                          metrics::Metrics& metrics);

/// `flywheel-intake --validate FILE`: OK, or INVALID_ARGUMENT listing every
/// problem of the file with its path and line.
absl::Status ValidatePolicyFile(const std::string& path);

}  // namespace flywheel::intake
