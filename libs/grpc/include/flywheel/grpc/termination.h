#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

/// Waiting for SIGTERM / SIGINT so `main` can drain and exit 0:
///
///   int main() {
///     if (!flywheel::rpc::BlockTerminationSignals().ok()) return 1;  // first line
///     ... start metrics, Kafka, Redis, the gRPC server ...
///     absl::StatusOr<int> signal = flywheel::rpc::WaitForTerminationSignal();
///     server->Shutdown();  // health NOT_SERVING, drain, stop
///     ... stop the rest ...
///     return 0;
///   }
namespace flywheel::rpc {

/// Blocks SIGTERM and SIGINT in the calling thread. A thread inherits its
/// creator's mask, so call this in `main` before any other thread starts
/// (gRPC, librdkafka, the metrics exposer, ...): a thread started earlier
/// keeps the default action, and a SIGTERM the kernel hands to it kills the
/// process without a drain.
absl::Status BlockTerminationSignals();

/// Blocks the caller until SIGTERM or SIGINT arrives, or until
/// `RequestTermination()` is called (before or during the wait). Returns the
/// signal number, or 0 for `RequestTermination()`; either is consumed, so a
/// second call waits for the next one. FAILED_PRECONDITION if the calling
/// thread has not blocked the signals (see `BlockTerminationSignals`).
absl::StatusOr<int> WaitForTerminationSignal();

/// Wakes `WaitForTerminationSignal` as a signal would, without sending one:
/// for tests, and for an in-process stop (the all-in-one `flywheel dev`).
/// Any thread.
void RequestTermination();

}  // namespace flywheel::rpc
