#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/reply.h"
#include "flywheel/redis/script_registry.h"

namespace flywheel::redis {

struct AsyncClientOptions {
  /// Endpoint, AUTH, SELECT and `command_timeout` as for `Connection`
  /// (`connect_attempts` does not apply: see `reconnect_backoff`).
  ConnectionOptions connection;
  /// Connections commands are spread over, round robin. Each carries any
  /// number of commands at once (they are pipelined), so a few suffice.
  size_t connections = 2;
};

/// Redis without a waiting thread: commands go out on a few hiredis
/// asynchronous connections driven by an `asio::io_context`, and a
/// coroutine that `co_await`s one is resumed on the context when its reply
/// arrives. Many calls in flight share the connections, so the commands of
/// concurrent calls are pipelined.
///
///   absl::StatusOr<Reply> reply = co_await redis.Command({"GET", key});
///
/// Guarantees, as for `Connection`:
/// - Arguments are binary-safe; a server error reply becomes a status
///   (error.h) and the connection stays usable.
/// - A command with no reply after `command_timeout`, a closed socket or an
///   I/O error fails UNAVAILABLE together with every command still waiting
///   on that connection (any of them may or may not have run). The next
///   command reconnects, but not sooner than `reconnect_backoff` after a
///   failed attempt: within it, commands fail UNAVAILABLE at once with the
///   last error, so an outage costs no storm of connects.
///
/// Thread-safe. Create it for one context; destroy it after the context's
/// threads have stopped (`async::IoThreads::Stop`).
class AsyncClient {
 public:
  /// INVALID_ARGUMENT for bad options. Connects nothing yet.
  static absl::StatusOr<std::unique_ptr<AsyncClient>> Create(asio::io_context& context,
                                                             AsyncClientOptions options);
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  /// Runs one command, e.g. `{"SET", key, value}`. INVALID_ARGUMENT for an
  /// empty `args` (nothing is sent).
  asio::awaitable<absl::StatusOr<Reply>> Command(std::vector<std::string> args);

  /// Runs the registered script `name` (`EVALSHA`; on NOSCRIPT it retries
  /// once with `EVAL` and the source), as `ScriptRegistry::Eval` does. NOT_FOUND for
  /// an unknown name; an error the script raises is FAILED_PRECONDITION.
  asio::awaitable<absl::StatusOr<Reply>> Eval(const ScriptRegistry& scripts, std::string name,
                                              std::vector<std::string> keys,
                                              std::vector<std::string> args);

 private:
  class Channel;
  AsyncClient(asio::io_context& context, AsyncClientOptions options);
  Channel& Next();

  const AsyncClientOptions options_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::atomic<size_t> next_{0};
};

}  // namespace flywheel::redis
