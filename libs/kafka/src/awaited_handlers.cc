#include "flywheel/kafka/awaited_handlers.h"

#include <memory>
#include <utility>

#include "flywheel/async/spawn.h"

namespace flywheel::kafka {

BatchHandler AwaitBatches(asio::io_context& io, AwaitedBatchHandler handler) {
  return [&io, handler = std::move(handler)](EventBatch batch, BatchDone done) {
    async::Spawn(io, handler(std::move(batch)), std::move(done));
  };
}

namespace {

// The batch lives in the coroutine's frame until its last event is handled.
asio::awaitable<std::vector<absl::Status>> EachInOrder(
    std::shared_ptr<const AwaitedEventHandler> handler, EventBatch batch) {
  std::vector<absl::Status> statuses;
  statuses.reserve(batch.events.size());
  for (const ConsumedEvent& event : batch.events) {
    statuses.push_back(co_await (*handler)(event));
    if (!statuses.back().ok()) break;
  }
  co_return statuses;
}

}  // namespace

BatchHandler AwaitEach(asio::io_context& io, AwaitedEventHandler handler) {
  auto shared = std::make_shared<const AwaitedEventHandler>(std::move(handler));
  return AwaitBatches(io,
                      [shared](EventBatch batch) { return EachInOrder(shared, std::move(batch)); });
}

}  // namespace flywheel::kafka
