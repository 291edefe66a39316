#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/runtime/service_main.h"

namespace flywheel::reporting {

/// The config key of the aggregates' generation (0 by default). A new
/// generation rebuilds every aggregate from the topics' start: its
/// consumers join new groups (`flywheel-reporting-<consumer>-g<N>`) and
/// write under new Redis keys (`<prefix>g<N>-rep:...`), while the old
/// generation's keys stay until deleted. Replaying gives the same numbers.
inline constexpr char kGenerationKey[] = "reporting.generation";

/// Starts the whole reporting process, wired: creates its topics (spend,
/// revenue, dead letters) if missing, waits for the other services'
/// topics, connects Redis and Kafka, starts the consumers of every
/// workflow and lead topic and the gRPC server. `main.cc` starts it on the
/// system clock.
absl::StatusOr<std::unique_ptr<runtime::App>> StartReporting(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics);

/// `StartReporting` on `clock` (which must outlive the app): the weekly
/// report's default week comes from it.
absl::StatusOr<std::unique_ptr<runtime::App>> StartReportingOn(
    const runtime::CommonSettings& settings, config::Config& config, metrics::Metrics& metrics,
    const Clock& clock);

}  // namespace flywheel::reporting
