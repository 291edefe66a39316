#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/redis/endpoint.h"
#include "flywheel/redis/reply.h"

namespace flywheel::redis {

/// How to reach and talk to one Redis server.
struct ConnectionOptions {
  Endpoint endpoint;
  /// Bound on establishing the TCP connection.
  absl::Duration connect_timeout = absl::Seconds(1);
  /// Bound on each socket read or write of a command. A command whose reply
  /// does not arrive in time fails with UNAVAILABLE.
  absl::Duration command_timeout = absl::Seconds(1);
  /// When non-empty, `AUTH [username] password` is sent after connecting.
  std::string username;
  std::string password;
  /// When not 0, `SELECT db` is sent after connecting.
  int db = 0;
  /// How many connection attempts one (re)connect makes before it gives up
  /// with UNAVAILABLE; the wait between attempts starts at
  /// `reconnect_backoff` and doubles, capped at 1 s.
  int connect_attempts = 3;
  absl::Duration reconnect_backoff = absl::Milliseconds(20);

  /// INVALID_ARGUMENT naming the first bad field (empty host, port out of
  /// range, non-positive timeout, negative db, attempts < 1).
  absl::Status Validate() const;
};

/// One synchronous connection to Redis (hiredis underneath).
///
/// Guarantees:
/// - Commands are sent binary-safe: each argument is sent with its length.
/// - A server error reply becomes a status (see error.h); the connection
///   stays usable.
/// - An I/O error, a closed socket or a timeout becomes UNAVAILABLE and marks
///   the connection broken. The next call reconnects first (bounded attempts,
///   small backoff, AUTH and SELECT again) and then runs its command. A
///   command that failed this way may or may not have run on the server.
///
/// Threads: not thread-safe. Use it from one thread at a time; share
/// connections between threads through `Pool`. Movable, not copyable; a
/// moved-from connection may only be destroyed or assigned to.
class Connection {
 public:
  /// Validates `options` and connects now. INVALID_ARGUMENT for bad options,
  /// UNAVAILABLE when the server cannot be reached, PERMISSION_DENIED when
  /// AUTH is refused.
  static absl::StatusOr<Connection> Connect(ConnectionOptions options);

  /// A connection that connects on first use (what `Pool` uses). Options must
  /// be valid (`Validate`).
  static Connection Deferred(ConnectionOptions options);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs one command, e.g. `{"SET", key, value}`. INVALID_ARGUMENT for an
  /// empty `args` (nothing is sent).
  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);

  /// Sends every command at once and then reads every reply: one round trip.
  /// Returns one result per command, in order. An empty command gets
  /// INVALID_ARGUMENT and is not sent. When the connection breaks midway,
  /// the command it broke on and every later one get UNAVAILABLE.
  std::vector<absl::StatusOr<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  /// Connects if not connected or marked broken; OK when already connected.
  absl::Status EnsureConnected();

  /// True when the last operation broke the connection (or it never
  /// connected); the next call will reconnect.
  bool broken() const;

  const ConnectionOptions& options() const;

 private:
  struct State;
  explicit Connection(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace flywheel::redis
