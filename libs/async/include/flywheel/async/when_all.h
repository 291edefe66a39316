#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>
#include <vector>

#include "flywheel/async/spawn.h"

namespace flywheel::async {

/// Starts every task at once on the caller's executor and resumes when all
/// have finished, with their results in the tasks' order: many round trips
/// in flight instead of one after another. Whatever the tasks refer to must
/// live until this returns.
template <typename T>
asio::awaitable<std::vector<T>> WhenAll(std::vector<asio::awaitable<T>> tasks) {
  auto executor = co_await asio::this_coro::executor;
  const size_t count = tasks.size();
  auto results = std::make_shared<std::vector<T>>(count);
  auto finished =
      std::make_shared<asio::experimental::concurrent_channel<void(asio::error_code, size_t)>>(
          executor, count);
  for (size_t i = 0; i < count; ++i) {
    asio::co_spawn(executor, std::move(tasks[i]),
                   [results, finished, i](std::exception_ptr error, T result) {
                     if (error) AbortOnException(error);
                     (*results)[i] = std::move(result);
                     finished->try_send(asio::error_code{}, i);
                   });
  }
  for (size_t i = 0; i < count; ++i) co_await finished->async_receive(asio::use_awaitable);
  co_return std::move(*results);
}

}  // namespace flywheel::async
