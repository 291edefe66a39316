#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/connection.h"
#include "flywheel/redis/pool.h"

namespace flywheel::outbox::testing {

/// The outbox a store's contract suite writes through: the Redis outbox, with
/// the pool and asynchronous client it needs, for the store in Redis, or the
/// in-memory outbox for the store's fake. Both publish to one recording
/// publisher. Used from the test's thread.
///
///   ContractOutbox events;                       // in memory
///   events.ConnectRedis(io.context(), options(), prefix());  // or Redis
///   MyRedisStore store(events.async(), prefix(), events.redis());
class ContractOutbox {
 public:
  ContractOutbox();
  /// Stop the context the client runs on before this goes.
  ~ContractOutbox();

  /// Switches to the Redis outbox on `options`, keys under `key_prefix`, its
  /// client on `io`. UNAVAILABLE or INVALID_ARGUMENT as the clients say.
  absl::Status ConnectRedis(asio::io_context& io, const redis::ConnectionOptions& options,
                            const std::string& key_prefix);

  /// The Redis outbox and its client; only after `ConnectRedis`.
  RedisOutbox& redis() { return *redis_outbox_; }
  redis::AsyncClient& async() { return *async_; }
  /// The in-memory outbox; only before `ConnectRedis`.
  InMemoryOutbox& in_memory() { return in_memory_; }

  kafka::testing::RecordingPublisher& publisher() { return publisher_; }

  /// Publishes everything `tag` holds now and returns what this drain
  /// published (a failed drain fails the test).
  std::vector<kafka::OutgoingEvent> Drain(const std::string& tag);

 private:
  kafka::testing::RecordingPublisher publisher_;
  metrics::Metrics metrics_;
  InMemoryOutbox in_memory_{publisher_};
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<redis::AsyncClient> async_;
  std::unique_ptr<RedisOutbox> redis_outbox_;
  Outbox* outbox_ = &in_memory_;
};

}  // namespace flywheel::outbox::testing
