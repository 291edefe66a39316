#include "flywheel/kafka/awaited_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <future>
#include <mutex>
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

EventBatch KeyedBatch(std::vector<std::pair<std::string, std::string>> keyed_ids) {
  EventBatch batch{.topic = "t", .partition = 3};
  for (auto& [key, id] : keyed_ids) {
    batch.events.push_back({.event = {.id = std::move(id), .key = std::move(key)}});
  }
  return batch;
}

TEST(AwaitEachByKeyTest, KeysRunAtOnceEachInOrder) {
  async::IoThreads io(2);
  std::mutex mu;
  std::vector<std::string> seen;
  std::promise<void> b_done;
  std::shared_future<void> b_finished = b_done.get_future().share();
  BatchHandler handler = AwaitEachByKey(
      io.context(), [&](const ConsumedEvent& consumed) -> asio::awaitable<absl::Status> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        const std::string& id = consumed.event.id;
        // a1 waits until key b is done: with one key at a time this would
        // never finish.
        if (id == "a1") {
          while (b_finished.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          }
        }
        {
          std::lock_guard lock(mu);
          seen.push_back(id);
        }
        if (id == "b2") b_done.set_value();
        co_return absl::OkStatus();
      });
  std::vector<absl::Status> statuses =
      Complete(handler, KeyedBatch({{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"b", "b2"}}));
  ASSERT_EQ(statuses.size(), 4u);
  for (const absl::Status& s : statuses) EXPECT_TRUE(s.ok()) << s;
  // b's events went first, while a1 waited; each key kept its order.
  EXPECT_THAT(seen, ::testing::ElementsAre("b1", "b2", "a1", "a2"));
}

TEST(AwaitEachByKeyTest, AFailureStopsItsKeyAndTheBatchEndsBeforeItsNextEvent) {
  async::IoThreads io(2);
  std::mutex mu;
  std::vector<std::string> seen;
  BatchHandler handler = AwaitEachByKey(
      io.context(), [&](const ConsumedEvent& consumed) -> asio::awaitable<absl::Status> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        {
          std::lock_guard lock(mu);
          seen.push_back(consumed.event.id);
        }
        if (consumed.event.id == "a1") co_return absl::UnavailableError("redis down");
        co_return absl::OkStatus();
      });
  std::vector<absl::Status> statuses = Complete(
      handler, KeyedBatch({{"b", "b1"}, {"a", "a1"}, {"b", "b2"}, {"a", "a2"}, {"b", "b3"}}));
  // a2 was not attempted: the batch says b1, a1 (to retry) and b2; a2 and
  // b3 come again.
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(statuses[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(statuses[2].ok());
  std::lock_guard lock(mu);
  EXPECT_THAT(seen, ::testing::Not(::testing::Contains("a2")));
  EXPECT_THAT(seen, ::testing::Contains("b3"));
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
