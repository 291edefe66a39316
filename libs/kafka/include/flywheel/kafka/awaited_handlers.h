#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/consumer.h"

/// Consumer handlers written as coroutines: they run on an io context, so a
/// handler waiting on Redis or the broker holds neither a consumer lane nor
/// any other thread, and many partitions' batches wait at once.
namespace flywheel::kafka {

/// Handles a whole batch (one pipelined round trip for it, say) and returns
/// one status per event, with the meaning `BatchDone` gives them.
using AwaitedBatchHandler = std::function<asio::awaitable<std::vector<absl::Status>>(EventBatch)>;

/// Handles one event, with the meaning an `EventHandler`'s return has.
using AwaitedEventHandler = std::function<asio::awaitable<absl::Status>(const ConsumedEvent&)>;

/// Runs `handler` on `io` for each batch and completes the batch with its
/// result.
BatchHandler AwaitBatches(asio::io_context& io, AwaitedBatchHandler handler);

/// `PerEvent` for coroutines: a batch's events one at a time, in order, on
/// `io`; at a failure it stops, so the events behind it wait until the
/// failed one is retried or dead-lettered.
BatchHandler AwaitEach(asio::io_context& io, AwaitedEventHandler handler);

}  // namespace flywheel::kafka
