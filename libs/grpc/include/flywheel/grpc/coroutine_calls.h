#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "flywheel/async/spawn.h"
#include "flywheel/grpc/async.h"

namespace flywheel::rpc {

struct CoroutineCallsOptions {
  /// Calls running at once beyond which new ones are answered UNAVAILABLE
  /// (`Overloaded`), so a burst queues in clients, not in this process.
  size_t max_in_flight = 4096;
};

/// Serves the unary methods of a callback service with coroutines: each call
/// runs as one on `io`, waits on Redis and the broker without holding a
/// thread, and finishes the call when it returns.
///
///   ::grpc::ServerUnaryReactor* Get(::grpc::CallbackServerContext* context,
///                                   const GetRequest* request,
///                                   GetResponse* response) override {
///     return calls_.Run(context, response, logic_.Get(*request));
///   }
///
/// `request` and `response` stay valid until the call is finished, so the
/// coroutine may hold references to them. Thread-safe. Destroy it after the
/// server serving it has shut down and `io`'s threads have stopped.
class CoroutineCalls {
 public:
  explicit CoroutineCalls(asio::io_context& io, CoroutineCallsOptions options = {})
      : io_(io), options_(options) {}

  /// Starts `task` and returns the call's reactor at once; the call is
  /// finished with the task's result (see `Finish`), on one of `io`'s
  /// threads.
  template <typename Response>
  ::grpc::ServerUnaryReactor* Run(::grpc::CallbackServerContext* context, Response* response,
                                  asio::awaitable<absl::StatusOr<Response>> task) {
    ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      reactor->Finish(ToGrpcStatus(Overloaded()));
      return reactor;
    }
    async::Spawn(io_, std::move(task), [this, reactor, response](absl::StatusOr<Response> result) {
      in_flight_.fetch_sub(1, std::memory_order_relaxed);
      Finish(reactor, response, std::move(result));
    });
    return reactor;
  }

  /// Calls running now.
  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  asio::io_context& io_;
  const CoroutineCallsOptions options_;
  std::atomic<size_t> in_flight_{0};
};

}  // namespace flywheel::rpc
