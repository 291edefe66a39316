// Latency samples for the load generators: every sample is kept, so the
// percentiles are exact (a run keeps at most a few hundred thousand).
#pragma once

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace flywheel::loadtest {

/// Latencies in seconds; thread-safe.
class Samples {
 public:
  void Add(double seconds) {
    std::lock_guard lock(mu_);
    values_.push_back(seconds);
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return values_.size();
  }
  void Clear() {
    std::lock_guard lock(mu_);
    values_.clear();
  }
  /// `"p50_ms": ..., "samples": n` as JSON members; null figures when empty.
  std::string Json() {
    std::lock_guard lock(mu_);
    Sort();
    if (values_.empty()) {
      return "\"p50_ms\": null, \"p90_ms\": null, \"p99_ms\": null, \"p999_ms\": null, "
             "\"max_ms\": null, \"samples\": 0";
    }
    char text[256];
    std::snprintf(text, sizeof text,
                  "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
                  "\"max_ms\": %.3f, \"samples\": %zu",
                  At(0.5), At(0.9), At(0.99), At(0.999), 1000 * values_.back(), values_.size());
    return text;
  }
  /// One line for a person, on stderr.
  void Print(const char* name) {
    std::lock_guard lock(mu_);
    Sort();
    if (values_.empty()) {
      std::fprintf(stderr, "%-18s no samples\n", name);
      return;
    }
    std::fprintf(
        stderr, "%-18s n=%zu  p50=%.2f ms  p90=%.2f ms  p99=%.2f ms  p99.9=%.2f ms  max=%.2f ms\n",
        name, values_.size(), At(0.5), At(0.9), At(0.99), At(0.999), 1000 * values_.back());
  }

 private:
  void Sort() { std::sort(values_.begin(), values_.end()); }
  // The q-quantile in milliseconds; values_ sorted and not empty.
  double At(double q) const {
    return 1000 * values_[std::min(values_.size() - 1, static_cast<size_t>(q * values_.size()))];
  }

  mutable std::mutex mu_;
  std::vector<double> values_;
};

}  // namespace flywheel::loadtest
