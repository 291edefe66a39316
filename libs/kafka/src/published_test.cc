#include "flywheel/kafka/published.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <asio/use_awaitable.hpp>
#include <thread>

#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"

namespace flywheel::kafka {
namespace {

// Acknowledges on a thread of its own, as librdkafka's delivery thread does.
class DeliveryThreadPublisher final : public EventPublisher {
 public:
  ~DeliveryThreadPublisher() override {
    if (delivery_.joinable()) delivery_.join();
  }
  absl::StatusOr<std::string> Publish(const OutgoingEvent&) override {
    // These tests publish asynchronously only.
    return absl::UnimplementedError("DeliveryThreadPublisher publishes asynchronously only");
  }
  void PublishAsync(std::vector<OutgoingEvent> events, PublishDone done) override {
    delivery_ = std::thread([this, events = std::move(events), done = std::move(done)] {
      delivery_thread_ = std::this_thread::get_id();
      if (fail_) {
        done(absl::UnavailableError("broker down"));
        return;
      }
      std::vector<std::string> ids;
      for (const OutgoingEvent& event : events) ids.push_back(event.id);
      done(ids);
    });
  }
  bool fail_ = false;
  std::thread::id delivery_thread_;

 private:
  std::thread delivery_;
};

asio::awaitable<std::pair<absl::StatusOr<std::vector<std::string>>, std::thread::id>> PublishTwo(
    EventPublisher& publisher) {
  std::vector<OutgoingEvent> events = {{.topic = "t", .id = "a"}, {.topic = "t", .id = "b"}};
  auto ids = co_await Published(publisher, std::move(events));
  co_return std::pair{std::move(ids), std::this_thread::get_id()};
}

TEST(PublishedTest, ResumesOnTheCoroutinesExecutorWithTheIds) {
  async::IoThreads io(1);
  DeliveryThreadPublisher publisher;
  auto [ids, resumed_on] = async::BlockOn(io.context(), PublishTwo(publisher));
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ::testing::ElementsAre("a", "b"));
  EXPECT_NE(resumed_on, publisher.delivery_thread_);
}

TEST(PublishedTest, ADeliveryFailureReachesTheCoroutine) {
  async::IoThreads io(1);
  DeliveryThreadPublisher publisher;
  publisher.fail_ = true;
  auto [ids, resumed_on] = async::BlockOn(io.context(), PublishTwo(publisher));
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace flywheel::kafka
