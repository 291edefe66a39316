#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/kafka/record.h"

namespace flywheel::kafka {

/// `EventPublisher::PublishAsync` from a coroutine: suspends until every
/// event is acknowledged (their ids, in order) or one has failed for good,
/// with no thread waiting; the coroutine resumes on its own executor, not on
/// the producer's delivery thread.
///
///   auto ids = co_await kafka::Published(publisher, std::move(events));
asio::awaitable<absl::StatusOr<std::vector<std::string>>> Published(
    EventPublisher& publisher, std::vector<OutgoingEvent> events);

/// `Producer::Send` of raw records from a coroutine, the same way: OK once
/// every record is acknowledged, else the first failure (some may then be
/// written). For topics that do not carry CloudEvents (a compacted journal).
asio::awaitable<absl::Status> Sent(Producer& producer, std::vector<Record> records);

}  // namespace flywheel::kafka
