#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::metrics {
class Metrics;
}

namespace flywheel::runtime {

/// Keeps a policy file (request types, templates, routing rules) live: loads
/// it once at start, then again whenever the file changes on disk (checked
/// every `poll_interval`; a Kubernetes ConfigMap update swaps a symlink, which
/// counts) or the process receives SIGHUP.
///
/// `load` parses and validates the file and, only when it is wholly valid,
/// swaps it in; it returns an error otherwise, and the running policy stays.
/// Every attempt is logged and counted in
/// `flywheel_<service>_<what>_reloads_total{result="ok|refused"}` (`what`
/// is `policy` unless told).
///
/// `load` runs on the reloader's own thread after `Start` returns; it must
/// swap the policy in a thread-safe way (a mutex or an atomic shared_ptr).
/// SIGHUP must be blocked in every thread (`ServiceMain` does this) for the
/// reloader to receive it; where it is not, only file changes reload.
class Reloader {
 public:
  using Load = std::function<absl::Status(const std::string& path)>;

  struct Options {
    std::string path;
    /// The `<service>` of the metric name.
    std::string service;
    /// What the file is, for the metric name
    /// (`flywheel_<service>_<what>_reloads_total`) and the log.
    std::string what = "policy";
    absl::Duration poll_interval = absl::Seconds(1);
  };

  /// Loads the file once, on the calling thread; fails with that load's
  /// error (nothing started) when the first version is not valid.
  static absl::StatusOr<std::unique_ptr<Reloader>> Start(Options options, Load load,
                                                         metrics::Metrics& metrics);
  virtual ~Reloader() = default;

  /// Loads the file now on the calling thread, as a SIGHUP would.
  virtual absl::Status ReloadNow() = 0;
};

}  // namespace flywheel::runtime
