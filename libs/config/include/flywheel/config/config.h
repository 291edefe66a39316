#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flywheel::log {
enum class Level;
}  // namespace flywheel::log

namespace flywheel::config {

/// Environment variables by name. Production passes `ProcessEnvironment()`;
/// tests pass a literal map.
using Env = std::map<std::string, std::string>;

/// Every `FLYWHEEL_*` variable of this process. Reads `environ`: call at
/// start-up, before other threads may call `setenv`.
Env ProcessEnvironment();

/// The variable that overrides `key`: `FLYWHEEL_` + the key uppercased with
/// `.` turned into `_` (`kafka.bootstrap_servers` ->
/// `FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS`).
std::string EnvName(std::string_view key);

/// A check on a value that was read: returns "" when the value is fine,
/// otherwise why not, phrased to follow the key (`must be between 1 and 10`).
template <typename T>
using Rule = std::function<std::string(const T&)>;

namespace internal {
template <typename T>
inline constexpr bool kSupported =
    std::is_same_v<T, std::string> || std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
    std::is_same_v<T, bool> || std::is_same_v<T, absl::Duration> ||
    std::is_same_v<T, std::vector<std::string>> || std::is_same_v<T, log::Level>;
}  // namespace internal

/// A service's configuration: one YAML file plus `FLYWHEEL_*` environment
/// overrides. The service declares every key it reads through the typed
/// getters below; a getter never fails on its own but records what was wrong
/// and returns the default, so `Check()` afterwards reports the first problem
/// as one line that names the key, what was wrong and where the value came
/// from (the file with line:column, or the variable).
///
/// Keys are dotted paths into nested YAML mappings (`grpc.listen`). An
/// environment variable named by `EnvName(key)` wins over the file. Keys in
/// the file that no getter declared are errors too, so a typo cannot pass
/// silently.
///
/// Supported types: std::string, int64_t, double, bool (true/false, yes/no,
/// on/off, 1/0), absl::Duration ("250ms", "2s", "1m", "1h30m", "3d", "1d12h"),
/// std::vector<std::string> (a YAML sequence; from the environment a
/// comma-separated list) and flywheel::log::Level (debug/info/warn/error).
///
/// Made and read at start-up on one thread; not thread-safe. Move-only.
class Config {
 public:
  /// Reads and parses `path`. An unreadable file (FAILED_PRECONDITION, as for
  /// policy files) or invalid YAML (INVALID_ARGUMENT) is an error whose
  /// message names the file (and line:column for bad YAML).
  static absl::StatusOr<Config> Load(const std::string& path, Env env);
  /// As above with `ProcessEnvironment()`.
  static absl::StatusOr<Config> Load(const std::string& path);
  /// Parses YAML text; `name` stands for the file in messages. An empty
  /// `name` means "no file": values come from the environment only.
  static absl::StatusOr<Config> FromString(const std::string& yaml, const std::string& name,
                                           Env env);

  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;
  ~Config();

  /// The value of `key`, which must be set (to a non-empty value for strings
  /// and lists). Returns T{} after recording an error when it is not.
  template <typename T = std::string, typename... Rules>
  T Required(std::string_view key, const Rules&... rules) {
    static_assert(internal::kSupported<T>, "unsupported config type; see Config");
    std::optional<T> v = Read<T>(key, {Rule<T>(rules)...}, /*required=*/true);
    return v ? *std::move(v) : T{};
  }

  /// The value of `key`, or `default_value` when it is not set (or invalid,
  /// which is recorded). Rules apply to set values only. T is always given
  /// explicitly: `Get<int64_t>("grpc.port", 50051, InRange(1, 65535))`.
  template <typename T, typename... Rules>
  T Get(std::string_view key, std::type_identity_t<T> default_value, const Rules&... rules) {
    static_assert(internal::kSupported<T>, "unsupported config type; see Config");
    std::optional<T> v = Read<T>(key, {Rule<T>(rules)...}, /*required=*/false);
    return v ? *std::move(v) : std::move(default_value);
  }

  /// The value of `key` if it is set and valid, otherwise nullopt (an
  /// invalid value is recorded).
  template <typename T, typename... Rules>
  std::optional<T> Optional(std::string_view key, const Rules&... rules) {
    static_assert(internal::kSupported<T>, "unsupported config type; see Config");
    return Read<T>(key, {Rule<T>(rules)...}, /*required=*/false);
  }

  /// The YAML text of the subtree at `key` (a mapping, list or scalar), for
  /// services that parse richer sections themselves; the environment variable,
  /// when set, replaces it verbatim. Declares `key` and everything under it.
  std::optional<std::string> Raw(std::string_view key);

  /// OK, or INVALID_ARGUMENT whose message is the first problem, one line:
  /// `config: grpc.port: must be between 1 and 65535, got "70000" (from
  /// FLYWHEEL_GRPC_PORT)`. Problems from getters come first, in the order
  /// they were read, then keys in the file that nothing declared.
  absl::Status Check() const;

  /// Like `Check`, but only the problems of the keys read so far, without
  /// reporting keys nothing has declared yet. For a caller that reads some
  /// keys, checks them, and hands the config on to code that reads the rest.
  absl::Status CheckRead() const;

  /// Every problem `Check()` would consider, one line each.
  std::vector<std::string> Errors() const;

  /// `ExitOnConfigError(Check())` when there is a problem; otherwise returns.
  void CheckOrExit() const;

  /// The file the config came from ("" when none).
  const std::string& file() const;

 private:
  struct Impl;
  explicit Config(std::unique_ptr<Impl> impl);

  // Instantiated in config.cc for the supported types.
  template <typename T>
  std::optional<T> Read(std::string_view key, std::vector<Rule<T>> rules, bool required);

  std::unique_ptr<Impl> impl_;
};

/// Writes the status message as one line to standard error and exits the
/// process with code 2. For main() only.
[[noreturn]] void ExitOnConfigError(const absl::Status& error);

/// `Config::Load` or `ExitOnConfigError`: `auto cfg = LoadOrExit(path);`.
Config LoadOrExit(const std::string& path);
Config LoadOrExit(const std::string& path, Env env);

// ---- Rules -----------------------------------------------------------------

namespace internal {
std::string RangeReason(int64_t lo, int64_t hi);
std::string RangeReason(double lo, double hi);
std::string RangeReason(absl::Duration lo, absl::Duration hi);
}  // namespace internal

/// The value must lie in [lo, hi]. For int64_t, double and absl::Duration:
/// `InRange(1, 65535)`, `InRange(absl::Milliseconds(1), absl::Seconds(30))`.
template <typename N>
struct InRange {
  InRange(N lo, N hi) : lo(lo), hi(hi) {}
  template <typename V>
  std::string operator()(const V& v) const {
    if (v < lo || hi < v) return internal::RangeReason(static_cast<V>(lo), static_cast<V>(hi));
    return {};
  }
  N lo;
  N hi;
};

/// The number or duration must be greater than zero.
struct Positive {
  template <typename V>
  std::string operator()(const V& v) const {
    return V{} < v ? std::string() : std::string("must be greater than 0");
  }
};

/// The string (or every list element) must be one of `allowed`.
struct OneOf {
  OneOf(std::initializer_list<std::string> allowed) : allowed(allowed) {}
  std::string operator()(const std::string& v) const;
  std::string operator()(const std::vector<std::string>& v) const;
  std::vector<std::string> allowed;
};

/// The string or list must not be empty.
struct NonEmpty {
  std::string operator()(const std::string& v) const;
  std::string operator()(const std::vector<std::string>& v) const;
};

/// The string (or every list element) must look like `host:port`: a
/// non-empty host name, IPv4 address or bracketed IPv6 address, and a port in
/// 0..65535 (0 lets the OS choose, for tests).
struct HostPort {
  std::string operator()(const std::string& v) const;
  std::string operator()(const std::vector<std::string>& v) const;
};

}  // namespace flywheel::config
