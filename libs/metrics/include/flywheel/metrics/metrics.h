#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
}

namespace flywheel::metrics {

/// Histogram bucket edges in seconds for every latency the platform measures,
/// from 1 ms to 30 s; 0.3, 2 and 5 are among them.
const std::vector<double>& LatencyBuckets();

/// OK when `name` reads `flywheel_<service>_<what>[_<unit>]`: lowercase
/// snake_case starting with `flywheel_`. Units are checked per kind by
/// `Metrics`: counters end in `_total`, histograms in `_seconds` or `_bytes`.
absl::Status CheckName(std::string_view name);

/// One registry per process, shared by every component that exports metrics.
/// Registration is thread-safe; so is updating a metric. Besides what is
/// registered, `Serve()` and `Render()` always expose the standard process
/// series (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
/// `process_start_time_seconds`), read from `/proc/self` at each scrape: the
/// one place names outside `flywheel_` appear, as Prometheus conventions
/// define them.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  prometheus::Family<prometheus::Counter>& Counter(const std::string& name,
                                                   const std::string& help);
  prometheus::Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& Histogram(const std::string& name,
                                                       const std::string& help);

  /// Starts answering `GET /metrics` on `address` (`0.0.0.0:9464`,
  /// `127.0.0.1:0`). Returns the port bound, useful when asking for port 0.
  absl::StatusOr<int> Serve(const std::string& address);

  /// The text exposition of everything registered and the process series,
  /// as `/metrics` serves it.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace flywheel::metrics
