#include "process_collector.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace flywheel::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Debian's abseil has its own string_view, so splitting is done here.
std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const size_t end = std::min(text.find(separator), text.size());
    if (end > 0) parts.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return parts;
}

std::optional<double> ToNumber(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Entries in /proc/self/fd; the directory handle of the listing itself is
// among them, as it is in client_golang.
std::optional<double> CountOpenFds() {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  if (error) return std::nullopt;
  double count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family{.name = name, .help = help, .type = type};
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t comm_end = text.rfind(')');
  if (comm_end == std::string_view::npos) return std::nullopt;
  // Field 3 (state) comes first after the command name.
  std::vector<std::string_view> fields = Split(text.substr(comm_end + 1), ' ');
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3, kVsize = 23 - 3,
                   kRss = 24 - 3;
  if (fields.size() <= kRss) return std::nullopt;
  auto utime = ToNumber(fields[kUtime]);
  auto stime = ToNumber(fields[kStime]);
  auto start = ToNumber(fields[kStart]);
  auto vsize = ToNumber(fields[kVsize]);
  auto rss = ToNumber(fields[kRss]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{.cpu_ticks = *utime + *stime,
                  .start_ticks = *start,
                  .virtual_bytes = *vsize,
                  .resident_pages = *rss};
}

std::optional<double> ParseMaxOpenFiles(std::string_view text) {
  for (std::string_view line : Split(text, '\n')) {
    if (!line.starts_with("Max open files")) continue;
    std::vector<std::string_view> words = Split(line, ' ');
    // "Max open files <soft> <hard> files"
    if (words.size() < 4) return std::nullopt;
    return ToNumber(words[3]);  // "unlimited" is no number: left out
  }
  return std::nullopt;
}

std::optional<double> ParseBootTime(std::string_view text) {
  for (std::string_view line : Split(text, '\n')) {
    if (line.starts_with("btime ")) return ToNumber(line.substr(6));
  }
  return std::nullopt;
}

ProcessCollector::ProcessCollector()
    : ticks_per_second_(static_cast<double>(sysconf(_SC_CLK_TCK))),
      page_bytes_(static_cast<double>(sysconf(_SC_PAGESIZE))) {
  // The boot time does not change while the process runs.
  if (auto stat = ReadFile("/proc/stat")) boot_time_ = ParseBootTime(*stat);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  std::optional<ProcStat> stat;
  if (auto text = ReadFile("/proc/self/stat")) stat = ParseProcStat(*text);
  if (stat && ticks_per_second_ > 0) {
    families.push_back(Family("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, stat->cpu_ticks / ticks_per_second_));
  }
  if (auto fds = CountOpenFds()) {
    families.push_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  }
  std::optional<double> max_fds;
  if (auto limits = ReadFile("/proc/self/limits")) max_fds = ParseMaxOpenFiles(*limits);
  if (max_fds) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *max_fds));
  }
  if (stat) {
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, stat->virtual_bytes));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, stat->resident_pages * page_bytes_));
  }
  if (stat && boot_time_ && ticks_per_second_ > 0) {
    families.push_back(Family(
        "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        MetricType::Gauge, *boot_time_ + stat->start_ticks / ticks_per_second_));
  }
  return families;
}

}  // namespace flywheel::metrics
