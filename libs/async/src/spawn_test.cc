#include "flywheel/async/spawn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "flywheel/async/io_threads.h"

namespace flywheel::async {
namespace {

asio::awaitable<absl::StatusOr<std::string>> Greet(std::string name) {
  // Suspends once, so the result comes back from another turn of the loop.
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
  co_await timer.async_wait(asio::use_awaitable);
  if (name.empty()) co_return absl::InvalidArgumentError("name is empty");
  co_return "hello " + name;
}

TEST(BlockOnTest, ReturnsWhatTheCoroutineReturns) {
  IoThreads io(2);
  EXPECT_EQ(*BlockOn(io.context(), Greet("ada")), "hello ada");
  EXPECT_EQ(BlockOn(io.context(), Greet("")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SpawnTest, CallsDoneOnAnIoThreadWithTheResult) {
  IoThreads io(1);
  std::promise<std::pair<std::string, std::thread::id>> seen;
  Spawn(io.context(), Greet("grace"), [&](absl::StatusOr<std::string> result) {
    seen.set_value({result.value_or("failed"), std::this_thread::get_id()});
  });
  auto [text, thread] = seen.get_future().get();
  EXPECT_EQ(text, "hello grace");
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(IoThreadsTest, StopIsIdempotent) {
  IoThreads io(2);
  EXPECT_EQ(*BlockOn(io.context(), Greet("x")), "hello x");
  io.Stop();
  io.Stop();
}

}  // namespace
}  // namespace flywheel::async
