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

/// What a service tells `ServiceMain` about itself.
struct ServiceSpec {
  /// `intake`, `routing`: names metrics, logs and the executable.
  std::string name;
  /// Whether `redis.endpoint` is required.
  bool needs_redis = false;
  /// Starts the wired service. `config` is the loaded file plus environment:
  /// read the service's own keys from it, then return `config.Check()`'s
  /// error before connecting to anything. `ServiceMain` turns a config error
  /// from `start` into exit 2 and its one line, like any other config error.
  std::function<absl::StatusOr<std::unique_ptr<App>>(const CommonSettings&, config::Config&,
                                                     metrics::Metrics&)>
      start;
  /// Validates a policy file without starting anything, for
  /// `flywheel-<name> --validate FILE` in users' own CI. Null when the
  /// service has no policy file.
  std::function<absl::Status(const std::string& path)> validate;
};

/// The body of every service's `main`:
/// - `--validate FILE`: validates the policy file, prints `FILE: ok` or the
///   problem, exits 0 or 2.
/// - otherwise: blocks SIGTERM, SIGINT and SIGHUP in every thread, loads and
///   checks config (exit 2 with one line when it is bad), starts the app
///   (exit 1 when it cannot), serves `/metrics`, waits for SIGTERM or
///   SIGINT, drains, and returns 0.
int ServiceMain(int argc, char** argv, const ServiceSpec& spec);

}  // namespace flywheel::runtime
