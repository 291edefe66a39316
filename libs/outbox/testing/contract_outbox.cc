#include "flywheel/outbox/testing/contract_outbox.h"

#include <gtest/gtest.h>

namespace flywheel::outbox::testing {

ContractOutbox::ContractOutbox() = default;
ContractOutbox::~ContractOutbox() = default;

absl::Status ContractOutbox::ConnectRedis(asio::io_context& io,
                                          const redis::ConnectionOptions& options,
                                          const std::string& key_prefix) {
  auto pool = redis::Pool::Create({.connection = options, .capacity = 2});
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  auto async = redis::AsyncClient::Create(io, {.connection = options});
  if (!async.ok()) return async.status();
  async_ = *std::move(async);
  redis_outbox_ = std::make_unique<RedisOutbox>(*pool_, publisher_,
                                                RedisOutboxOptions{.key_prefix = key_prefix},
                                                metrics_, SystemClock::Instance(), async_.get());
  outbox_ = redis_outbox_.get();
  return absl::OkStatus();
}

std::vector<kafka::OutgoingEvent> ContractOutbox::Drain(const std::string& tag) {
  const size_t before = publisher_.size();
  absl::Status drained = outbox_->Drain(tag);
  EXPECT_TRUE(drained.ok()) << drained;
  const std::vector<kafka::OutgoingEvent> all = publisher_.published();
  return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
}

}  // namespace flywheel::outbox::testing
