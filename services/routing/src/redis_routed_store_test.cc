#include "redis_routed_store.h"

#include <gtest/gtest.h>

#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::routing {
namespace {

class RedisRoutedStoreTest : public redis::RedisTestEnv {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    auto pool = redis::Pool::Create({.connection = options(), .capacity = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    store_ = std::make_unique<RedisRoutedStore>(*pool_, prefix());
  }

  RoutedRequest Sample(std::string event_id) {
    return {.tenant_id = "acme",
            .request_id = "req_1",
            .request_type = "email",
            .title = "Newsletter: \"May\" \xe2\x9c\x93",
            .priority = "PRIORITY_P2",
            .event_id = std::move(event_id),
            .routed_at = absl::FromUnixMicros(1'800'000'000'123'456)};
  }

  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<RedisRoutedStore> store_;
};

TEST_F(RedisRoutedStoreTest, RecordThenFindRoundTrips) {
  ASSERT_TRUE(store_->Record(Sample("evt_a")).ok());
  auto found = store_->Find("acme", "req_1");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, Sample("evt_a"));
}

TEST_F(RedisRoutedStoreTest, UnknownRequestIsNotFound) {
  auto found = store_->Find("acme", "req_missing");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());
}

TEST_F(RedisRoutedStoreTest, ReplayOfTheSameEventChangesNothing) {
  ASSERT_TRUE(store_->Record(Sample("evt_a")).ok());
  RoutedRequest replay = Sample("evt_a");
  replay.title = "changed by a replay";
  ASSERT_TRUE(store_->Record(replay).ok());
  EXPECT_EQ((*store_->Find("acme", "req_1"))->title, Sample("evt_a").title);
}

TEST_F(RedisRoutedStoreTest, KeyNamesTenantAndRequestInsideAHashTag) {
  EXPECT_EQ(store_->KeyFor("acme", "req_1"), prefix() + "routing:{acme/req_1}:request");
}

}  // namespace
}  // namespace flywheel::routing
