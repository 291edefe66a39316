#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/runtime/service_main.h"
#include "timer_store.h"

namespace flywheel::scheduler {

/// The config key naming the scheduler's policy file (calendars, warning
/// share, escalation chains per tenant). Unset: the shipped
/// services/scheduler/policy/default.yaml.
inline constexpr char kPolicyFileKey[] = "scheduler.policy_file";

/// Starts the whole scheduler, wired: creates its topics if missing, loads
/// the policy (kept live when it comes from a file), connects Redis and
/// Kafka, starts the consumer of timer requests, the claimer that fires
/// due points, and the gRPC server. `main.cc` starts it on the system
/// clock.
absl::StatusOr<std::unique_ptr<runtime::App>> StartScheduler(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics);

/// Given the timer store a scheduler app would use, the one it uses
/// instead (usually forwarding to it); owned by the app, destroyed before
/// the store it was given.
using TimerStoreWrapper = std::function<std::unique_ptr<TimerStore>(TimerStore& store)>;

/// `StartScheduler` on `clock` (which must outlive the app): what tests
/// use to move time instead of waiting for it; after moving a fake clock,
/// `WakeClaimer` fires what became due. `wrap`, when given, puts a store of
/// the test's between the scheduler and Redis: a replica whose store calls
/// fail from some point on is, for Redis and the broker, a replica killed
/// there.
absl::StatusOr<std::unique_ptr<runtime::App>> StartSchedulerOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock, TimerStoreWrapper wrap = nullptr);

/// Tells a scheduler app started by `StartSchedulerOn` to look for due
/// points now (after its clock moved). Does nothing for another app.
void WakeClaimer(runtime::App& app);

/// The port a scheduler app serves calendar feeds on
/// (`scheduler.feeds.listen`); 0 when it serves none or is another app.
int FeedPort(runtime::App& app);

/// `flywheel-scheduler --validate FILE`: OK, or INVALID_ARGUMENT listing
/// every problem of the file with its path and line.
absl::Status ValidatePolicyFile(const std::string& path);

}  // namespace flywheel::scheduler
