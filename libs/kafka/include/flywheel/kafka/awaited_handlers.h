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

/// `AwaitEach` per record key: a batch's events are split by their key
/// (the aggregate's id, so one request's or lead's events), each key's
/// events run one at a time in offset order, and different keys run at
/// once on `io`, so a batch of many aggregates costs about one round trip
/// per event of its busiest key rather than per event. A key stops at its
/// first failure; the batch completes with the statuses up to the first
/// event that was not attempted, so that event and everything behind it
/// come again (events of other keys already done there come again too, and
/// the handler's idempotence absorbs them). The handler may run on several
/// of `io`'s threads at once, for different keys.
BatchHandler AwaitEachByKey(asio::io_context& io, AwaitedEventHandler handler);

}  // namespace flywheel::kafka
