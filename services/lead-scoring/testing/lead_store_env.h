#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/outbox/testing/contract_outbox.h"
#include "flywheel/redis/testing/redis_test_env.h"
#include "redis_lead_store.h"

namespace flywheel::lead_scoring::testing {

/// A `RedisLeadStore` on the real Redis under the test's own key prefix,
/// its outbox publishing to a recording publisher (`outbox_.publisher()`).
class LeadStoreEnv : public redis::RedisTestEnv {
 protected:
  /// `options` without its key prefix, which is the test's.
  explicit LeadStoreEnv(RedisLeadStoreOptions options = {}) : options_(std::move(options)) {}

  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    absl::Status connected = outbox_.ConnectRedis(io_.context(), options(), prefix());
    ASSERT_TRUE(connected.ok()) << connected;
    options_.key_prefix = prefix();
    store_ = std::make_unique<RedisLeadStore>(outbox_.async(), outbox_.redis(), options_);
  }

  void TearDown() override {
    io_.Stop();  // nothing runs on the Redis client after this
    RedisTestEnv::TearDown();
  }

  /// Runs `task` on the store's io threads and waits for it.
  template <typename T>
  T Await(asio::awaitable<T> task) {
    return async::BlockOn(io_.context(), std::move(task));
  }

  async::IoThreads io_{2};
  outbox::testing::ContractOutbox outbox_;
  RedisLeadStoreOptions options_;
  std::unique_ptr<RedisLeadStore> store_;
};

}  // namespace flywheel::lead_scoring::testing
