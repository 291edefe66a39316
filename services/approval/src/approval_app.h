#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::approval {

/// The config key naming approval's policy file (groups and chains per
/// tenant). Unset: the shipped services/approval/policy/default.yaml.
inline constexpr char kPolicyFileKey[] = "approval.policy_file";

/// Starts the whole approval process, wired: creates its topics if missing,
/// loads the policy (kept live when it comes from a file), connects Redis
/// and Kafka, starts the consumers of routing's workflows and the
/// scheduler's SLA events, the outbox relay, the inbox metrics and the gRPC
/// server. `main.cc` and the integration tests start approval this way.
absl::StatusOr<std::unique_ptr<runtime::App>> StartApproval(const runtime::CommonSettings& settings,
                                                            config::Config& config,
                                                            metrics::Metrics& metrics);

/// `flywheel-approval --validate FILE`: OK, or INVALID_ARGUMENT listing every
/// problem of the file with its path and line.
absl::Status ValidatePolicyFile(const std::string& path);

}  // namespace flywheel::approval
