#include "flywheel/log/log.h"

#include <atomic>
#include <iostream>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace flywheel::log {
namespace {

struct Logger {
  std::atomic<int> level{static_cast<int>(Level::kInfo)};
  std::mutex mu;
  std::string service = "flywheel";
  std::function<void(std::string_view)> sink;
};

Logger& TheLogger() {
  static Logger* logger = new Logger();  // never destroyed: threads may log at exit
  return *logger;
}

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

}  // namespace

absl::StatusOr<Level> ParseLevel(std::string_view text) {
  for (int i = 0; i < 4; ++i) {
    if (text == kLevelNames[i]) return static_cast<Level>(i);
  }
  return absl::InvalidArgumentError("must be one of debug, info, warn, error");
}

void SetLevel(Level level) { TheLogger().level.store(static_cast<int>(level)); }

bool Enabled(Level level) {
  return static_cast<int>(level) >= TheLogger().level.load(std::memory_order_relaxed);
}

void SetService(std::string service) {
  Logger& logger = TheLogger();
  std::lock_guard lock(logger.mu);
  logger.service = std::move(service);
}

void SetSinkForTesting(std::function<void(std::string_view line)> sink) {
  Logger& logger = TheLogger();
  std::lock_guard lock(logger.mu);
  logger.sink = std::move(sink);
}

void Write(Level level, std::string_view msg, const nlohmann::json& fields) {
  Logger& logger = TheLogger();
  if (static_cast<int>(level) < logger.level.load(std::memory_order_relaxed)) return;

  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = kLevelNames[static_cast<int>(level)];
  std::lock_guard lock(logger.mu);
  line["service"] = logger.service;
  line["msg"] = msg;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  // Replace invalid UTF-8 rather than throw: a log line must never fail.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (logger.sink) {
    logger.sink(text);
  } else {
    text.push_back('\n');
    std::cerr.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cerr.flush();
  }
}

}  // namespace flywheel::log
