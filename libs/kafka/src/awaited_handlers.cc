#include "flywheel/kafka/awaited_handlers.h"

#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "flywheel/async/spawn.h"
#include "flywheel/async/when_all.h"

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

// One key's events (`positions` into the batch), in order, until one fails.
asio::awaitable<bool> KeyInOrder(const AwaitedEventHandler& handler, const EventBatch& batch,
                                 const std::vector<size_t>& positions,
                                 std::vector<std::optional<absl::Status>>& statuses) {
  for (size_t i : positions) {
    statuses[i] = co_await handler(batch.events[i]);
    if (!statuses[i]->ok()) break;
  }
  co_return true;
}

// Each key's coroutine writes only its own events' statuses; WhenAll's
// channel orders those writes before the read below.
asio::awaitable<std::vector<absl::Status>> EachKeyInOrder(
    std::shared_ptr<const AwaitedEventHandler> handler, EventBatch batch) {
  std::map<std::string, std::vector<size_t>> keys;
  for (size_t i = 0; i < batch.events.size(); ++i) keys[batch.events[i].event.key].push_back(i);
  std::vector<std::optional<absl::Status>> done(batch.events.size());
  std::vector<asio::awaitable<bool>> tasks;
  tasks.reserve(keys.size());
  for (const auto& [key, positions] : keys) {
    tasks.push_back(KeyInOrder(*handler, batch, positions, done));
  }
  (void)co_await async::WhenAll(std::move(tasks));
  std::vector<absl::Status> statuses;
  statuses.reserve(done.size());
  for (std::optional<absl::Status>& status : done) {
    if (!status) break;  // not attempted: it and all behind it come again
    statuses.push_back(*std::move(status));
  }
  co_return statuses;
}

}  // namespace

BatchHandler AwaitEachByKey(asio::io_context& io, AwaitedEventHandler handler) {
  auto shared = std::make_shared<const AwaitedEventHandler>(std::move(handler));
  return AwaitBatches(
      io, [shared](EventBatch batch) { return EachKeyInOrder(shared, std::move(batch)); });
}

BatchHandler AwaitEach(asio::io_context& io, AwaitedEventHandler handler) {
  auto shared = std::make_shared<const AwaitedEventHandler>(std::move(handler));
  return AwaitBatches(io,
                      [shared](EventBatch batch) { return EachInOrder(shared, std::move(batch)); });
}

}  // namespace flywheel::kafka
