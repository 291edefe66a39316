#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::lead_scoring {

/// The config key naming lead scoring's policy file (activity types and a
/// model per tenant). Unset: the shipped services/lead-scoring/policy/default.yaml.
inline constexpr char kPolicyFileKey[] = "lead_scoring.policy_file";

/// Starts the whole lead-scoring process, wired: creates its topics if
/// missing, loads the policy (kept live when it comes from a file),
/// connects Redis and Kafka, starts the consumers of lead activity and
/// profiles, the outbox relay and the gRPC server. `main.cc` starts it on
/// the system clock.
absl::StatusOr<std::unique_ptr<runtime::App>> StartLeadScoring(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics);

/// `StartLeadScoring` on `clock` (which must outlive the app): tests move
/// time (decay, the cool-down, future timestamps) instead of waiting.
absl::StatusOr<std::unique_ptr<runtime::App>> StartLeadScoringOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock);

/// `flywheel-lead-scoring --validate FILE`: OK, or INVALID_ARGUMENT listing
/// every problem of the file with its path and line.
absl::Status ValidatePolicyFile(const std::string& path);

}  // namespace flywheel::lead_scoring
