#include "flywheel/metrics/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <regex>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "process_collector.h"

namespace flywheel::metrics {

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
                                              0.3,   0.5,    1.0,   2.0,  5.0,   10.0, 30.0};
  return buckets;
}

absl::Status CheckName(std::string_view name) {
  static const std::regex kShape("^flywheel_[a-z][a-z0-9]*(_[a-z0-9]+)+$");
  if (!std::regex_match(name.begin(), name.end(), kShape)) {
    return absl::InvalidArgumentError(absl::StrCat("metric name '", std::string(name),
                                                   "' must read flywheel_<service>_<what>_<unit>"));
  }
  return absl::OkStatus();
}

namespace {

void RequireName(const std::string& name) {
  // Metric names are fixed in code, so a bad one is a programming error that
  // shows at start-up; this is one of the few places that throws.
  if (absl::Status st = CheckName(name); !st.ok()) throw std::invalid_argument(st.ToString());
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {}
Metrics::~Metrics() = default;

prometheus::Family<prometheus::Counter>& Metrics::Counter(const std::string& name,
                                                          const std::string& help) {
  RequireName(name);
  if (!name.ends_with("_total")) {
    throw std::invalid_argument(absl::StrCat("counter '", name, "' must end in _total"));
  }
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Metrics::Gauge(const std::string& name,
                                                      const std::string& help) {
  RequireName(name);
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& Metrics::Histogram(const std::string& name,
                                                              const std::string& help) {
  RequireName(name);
  if (!name.ends_with("_seconds") && !name.ends_with("_bytes")) {
    throw std::invalid_argument(
        absl::StrCat("histogram '", name, "' must end in _seconds or _bytes"));
  }
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

absl::StatusOr<int> Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve /metrics on ", address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_);
  auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError("metrics exposer bound no port");
  return ports.front();
}

std::string Metrics::Render() const {
  prometheus::TextSerializer serializer;
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& family : process_->Collect()) families.push_back(std::move(family));
  return serializer.Serialize(families);
}

}  // namespace flywheel::metrics
