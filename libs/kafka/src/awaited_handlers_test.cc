#include "flywheel/kafka/awaited_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <future>
#include <string>
#include <vector>

#include "flywheel/async/io_threads.h"

namespace flywheel::kafka {
namespace {

EventBatch BatchOf(std::vector<std::string> ids) {
  EventBatch batch{.topic = "t", .partition = 3};
  for (std::string& id : ids) batch.events.push_back({.event = {.id = std::move(id)}});
  return batch;
}

std::vector<absl::Status> Complete(BatchHandler& handler, EventBatch batch) {
  std::promise<std::vector<absl::Status>> result;
  handler(std::move(batch),
          [&](std::vector<absl::Status> statuses) { result.set_value(std::move(statuses)); });
  return result.get_future().get();
}

TEST(AwaitEachTest, HandlesEventsInOrderAndStopsAtAFailure) {
  async::IoThreads io(2);
  std::vector<std::string> seen;  // one batch at a time: no lock needed
  BatchHandler handler =
      AwaitEach(io.context(), [&](const ConsumedEvent& consumed) -> asio::awaitable<absl::Status> {
        // Suspends, as a handler waiting on Redis would.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        seen.push_back(consumed.event.id);
        if (consumed.event.id == "bad") co_return absl::UnavailableError("redis down");
        co_return absl::OkStatus();
      });
  std::vector<absl::Status> statuses = Complete(handler, BatchOf({"a", "b", "bad", "c"}));
  ASSERT_EQ(statuses.size(), 3u) << "the event behind the failure waits";
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_EQ(statuses[2].code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(seen, ::testing::ElementsAre("a", "b", "bad"));
}

TEST(AwaitBatchesTest, CompletesTheBatchWithTheCoroutinesStatuses) {
  async::IoThreads io(1);
  BatchHandler handler = AwaitBatches(
      io.context(), [](EventBatch batch) -> asio::awaitable<std::vector<absl::Status>> {
        std::vector<absl::Status> statuses(batch.events.size(), absl::OkStatus());
        statuses.back() = absl::InvalidArgumentError("undecodable");
        co_return statuses;
      });
  std::vector<absl::Status> statuses = Complete(handler, BatchOf({"a", "b"}));
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::kafka
