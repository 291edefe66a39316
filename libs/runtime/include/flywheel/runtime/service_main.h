#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/runtime/settings.h"

namespace flywheel::metrics {
class Metrics;
}

namespace flywheel::runtime {

/// A running service process: what `ServiceMain` starts and drains.
class App {
 public:
  virtual ~App() = default;
  /// The bound gRPC port.
  virtual int grpc_port() const = 0;
  /// Graceful drain: stop taking work, finish what is in hand. Idempotent.
  virtual void Stop() = 0;
};

using AppFactory =
    std::function<absl::StatusOr<std::unique_ptr<App>>(const CommonSettings&, metrics::Metrics&)>;

/// The body of every service's `main`: blocks termination signals, loads and
/// checks config (exit 2 with one line when it is bad), serves `/metrics`,
/// starts the app (exit 1 when it cannot), waits for SIGTERM or SIGINT,
/// drains, and returns 0.
int ServiceMain(int argc, char** argv, const std::string& service, bool needs_redis,
                const AppFactory& start);

}  // namespace flywheel::runtime
