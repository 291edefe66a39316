#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <optional>
#include <string_view>
#include <vector>

namespace flywheel::metrics {

/// What `/proc/self/stat` says about the process, in its own units.
struct ProcStat {
  double cpu_ticks = 0;       ///< utime + stime, in clock ticks
  double start_ticks = 0;     ///< starttime: clock ticks after boot
  double virtual_bytes = 0;   ///< vsize
  double resident_pages = 0;  ///< rss
};

/// Parses the text of `/proc/<pid>/stat`. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from its last `)`. Nullopt
/// when the text is too short or a field is not a number.
std::optional<ProcStat> ParseProcStat(std::string_view text);

/// The soft "Max open files" limit from the text of `/proc/<pid>/limits`;
/// nullopt when it is missing or `unlimited`.
std::optional<double> ParseMaxOpenFiles(std::string_view text);

/// The `btime` line of `/proc/stat`: boot time in seconds since the epoch.
std::optional<double> ParseBootTime(std::string_view text);

/// The process metrics every Prometheus client library exports, named and
/// typed as its conventions define them (client_golang's process collector):
/// `process_cpu_seconds_total` (counter), `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
/// `process_start_time_seconds` (gauges). Read from `/proc/self` at every
/// collection; a series whose file cannot be read is left out. Linux only.
/// Thread-safe: it holds no state that changes.
class ProcessCollector final : public prometheus::Collectable {
 public:
  ProcessCollector();

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double ticks_per_second_;
  double page_bytes_;
  std::optional<double> boot_time_;
};

}  // namespace flywheel::metrics
