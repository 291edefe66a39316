#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <thread>
#include <vector>

namespace flywheel::async {

/// An `asio::io_context` and the threads that run it: where a service's
/// coroutines run and its asynchronous connections (`redis::AsyncClient`)
/// wait for replies, so no thread ever blocks on Redis or the broker. A few
/// threads (one per core) serve any number of calls in flight.
///
/// Thread-safe. Not copyable or movable. Everything bound to `context()`
/// (clients, timers) must be destroyed after `Stop` and before this.
class IoThreads {
 public:
  /// Starts `threads` threads (at least 1) running the context.
  explicit IoThreads(int threads);
  /// `Stop`s.
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  asio::io_context& context() { return context_; }

  /// Stops running handlers (whatever is still queued is dropped, so stop
  /// taking new work first: drain the gRPC server) and joins the threads.
  /// Later calls return at once. Not from one of its own threads.
  void Stop();

 private:
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_;
  std::vector<std::thread> threads_;
};

}  // namespace flywheel::async
