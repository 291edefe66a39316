#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <exception>
#include <utility>

/// Starting a coroutine from code that is not one.
///
/// Flywheel's coroutines never throw (errors travel as `absl::Status`), so
/// an exception escaping one is a bug: it is logged and the process aborts
/// rather than a call being left unanswered.
namespace flywheel::async {

[[noreturn]] void AbortOnException(std::exception_ptr error);

/// Runs `task` on `context` and calls `done(result)` on one of the
/// context's threads when it finishes. Returns at once.
template <typename T, typename Done>
void Spawn(asio::io_context& context, asio::awaitable<T> task, Done done) {
  asio::co_spawn(context, std::move(task),
                 [done = std::move(done)](std::exception_ptr error, T result) mutable {
                   if (error) AbortOnException(error);
                   std::move(done)(std::move(result));
                 });
}

/// Runs `task` on `context` and waits for its result: for threads that may
/// block (a consumer's handler thread, a test), never for one of the
/// context's own threads, which would wait for itself.
template <typename T>
T BlockOn(asio::io_context& context, asio::awaitable<T> task) {
  auto result = asio::co_spawn(context, std::move(task), asio::use_future);
  try {
    return result.get();
  } catch (...) {
    AbortOnException(std::current_exception());
  }
}

}  // namespace flywheel::async
