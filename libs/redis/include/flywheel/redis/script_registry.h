#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/reply.h"

namespace flywheel::redis {

/// The SHA1 of `source` as 40 lowercase hex digits: the name Redis gives a
/// script (what `SCRIPT LOAD` returns and `EVALSHA` takes).
std::string ScriptSha1(std::string_view source);

/// Named Lua scripts, registered once at start-up and run by name. Scripts
/// are how services make multi-key steps atomic.
///
/// `Eval` sends `EVALSHA`; when the server answers NOSCRIPT (restart, failover,
/// `SCRIPT FLUSH`) it retries once with `EVAL` and the source, which also
/// caches the script again.
///
/// Threads: register everything before sharing the registry; after that,
/// `Eval`, `Sha1` and `Contains` may run from any number of threads at once
/// (each with its own connection). Not thread-safe against a concurrent
/// `Register`.
class ScriptRegistry {
 public:
  /// Adds `source` under `name`. Registering the same name with the same
  /// source again is OK; with a different source it is ALREADY_EXISTS and
  /// the first one stays. An empty name or source is INVALID_ARGUMENT.
  absl::Status Register(const std::string& name, std::string source);

  bool Contains(std::string_view name) const;
  /// The script's SHA1; NOT_FOUND for an unknown name.
  absl::StatusOr<std::string> Sha1(std::string_view name) const;
  /// The script's source (what `SCRIPT LOAD` sends); NOT_FOUND for an
  /// unknown name.
  absl::StatusOr<std::string> Source(std::string_view name) const;
  size_t size() const { return scripts_.size(); }

  /// Runs the script `name` with `KEYS` = `keys` and `ARGV` = `args` on
  /// `conn`. NOT_FOUND for an unknown name (nothing is sent); otherwise what
  /// `Connection::Command` returns, where an error raised by the script
  /// becomes FAILED_PRECONDITION with the script's message.
  absl::StatusOr<Reply> Eval(Connection& conn, std::string_view name,
                             const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) const;

  /// One run of a script by `EvalMany`.
  struct Call {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  /// Runs the script `name` once per call, all in one round trip (a
  /// pipeline): one result per call, in order, each what `Eval` would have
  /// returned. Each run is atomic on its own, not the whole set. When the
  /// server lacks the script, the calls that missed it are sent again with
  /// the source (one more round trip). An unknown name is NOT_FOUND for
  /// every call, and nothing is sent.
  std::vector<absl::StatusOr<Reply>> EvalMany(Connection& conn, std::string_view name,
                                              const std::vector<Call>& calls) const;

  /// Loads every registered script into the server behind `conn` (optional
  /// warm-up; `Eval` loads on demand anyway).
  absl::Status LoadAll(Connection& conn) const;

 private:
  struct Script {
    std::string source;
    std::string sha1;
  };
  absl::StatusOr<const Script*> Find(std::string_view name) const;
  absl::flat_hash_map<std::string, Script> scripts_;
};

}  // namespace flywheel::redis
