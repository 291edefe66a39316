#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace flywheel::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Parses `debug`, `info`, `warn` or `error`.
absl::StatusOr<Level> ParseLevel(std::string_view text);

/// Process-wide settings; call at start-up, before other threads log.
void SetLevel(Level level);
void SetService(std::string service);

/// Whether a line of `level` would be written: guard a line on a hot path
/// whose fields cost something to build.
bool Enabled(Level level);

/// Where lines go (standard error by default). Tests capture lines here.
/// The sink is called under the logger's mutex, one complete line at a time.
void SetSinkForTesting(std::function<void(std::string_view line)> sink);

/// Writes one line if `level` is at or above the configured level. `fields`
/// must be a JSON object (or null); its keys are added beside `msg`.
/// Thread-safe.
void Write(Level level, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, const nlohmann::json& fields = nullptr) {
  Write(Level::kError, msg, fields);
}

}  // namespace flywheel::log
