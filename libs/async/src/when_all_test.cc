#include "flywheel/async/when_all.h"

#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "flywheel/async/io_threads.h"

namespace flywheel::async {
namespace {

// Finishes after `ms` milliseconds with its name, or fails for an empty one.
asio::awaitable<absl::StatusOr<std::string>> After(int ms, std::string name) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::use_awaitable);
  if (name.empty()) co_return absl::InvalidArgumentError("no name");
  co_return name;
}

asio::awaitable<std::vector<absl::StatusOr<std::string>>> ThreeOutOfOrder() {
  std::vector<asio::awaitable<absl::StatusOr<std::string>>> tasks;
  tasks.push_back(After(30, "slow"));
  tasks.push_back(After(1, ""));
  tasks.push_back(After(10, "quick"));
  co_return co_await WhenAll(std::move(tasks));
}

TEST(WhenAllTest, GivesEveryResultInTheTasksOrderWhateverOrderTheyFinishIn) {
  IoThreads io(2);
  std::vector<absl::StatusOr<std::string>> results = BlockOn(io.context(), ThreeOutOfOrder());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].value_or("?"), "slow");
  EXPECT_EQ(results[1].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(results[2].value_or("?"), "quick");
}

asio::awaitable<size_t> NoneAtAll() {
  co_return (co_await WhenAll(std::vector<asio::awaitable<absl::Status>>{})).size();
}

TEST(WhenAllTest, NoTasksIsNoResults) {
  IoThreads io(1);
  EXPECT_EQ(BlockOn(io.context(), NoneAtAll()), 0u);
}

}  // namespace
}  // namespace flywheel::async
