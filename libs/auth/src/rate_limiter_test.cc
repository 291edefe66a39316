#include "flywheel/auth/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/core/retry_delay.h"

namespace flywheel::auth {
namespace {

TEST(TokenBucketTest, BurstThenRate) {
  FakeClock clock;
  TokenBucket b({.per_second = 2, .burst = 3}, clock.Now());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(b.Wait(clock.Now()), absl::ZeroDuration());
    b.Take();
  }
  EXPECT_EQ(b.Wait(clock.Now()), absl::Milliseconds(500));
  clock.Advance(absl::Milliseconds(500));
  EXPECT_EQ(b.Wait(clock.Now()), absl::ZeroDuration());
}

TEST(RateLimiterTest, ACallerOverItsLimitIsToldWhenToRetry) {
  FakeClock clock;
  RateLimiter limiter({.per_caller = BucketLimit{.per_second = 1, .burst = 2}}, clock);
  EXPECT_FALSE(limiter.Admit("acme", "maria"));
  EXPECT_FALSE(limiter.Admit("acme", "maria"));
  auto refused = limiter.Admit("acme", "maria");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->scope, LimitScope::kCaller);
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryDelayOf(refused->status), absl::Seconds(1));
  // Nothing of who is calling in the message.
  EXPECT_THAT(refused->status.message(), ::testing::Not(::testing::HasSubstr("maria")));
  // Another caller of the same tenant is not held back.
  EXPECT_FALSE(limiter.Admit("acme", "li"));
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(limiter.Admit("acme", "maria"));
}

TEST(RateLimiterTest, TheTenantLimitCoversAllItsCallersAndOverridesWin) {
  FakeClock clock;
  RateLimits limits{.per_tenant = BucketLimit{.per_second = 1, .burst = 2}};
  limits.tenant_overrides["big"] = {.per_second = 100, .burst = 100};
  RateLimiter limiter(limits, clock);
  EXPECT_FALSE(limiter.Admit("acme", "a"));
  EXPECT_FALSE(limiter.Admit("acme", "b"));
  auto refused = limiter.Admit("acme", "c");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->scope, LimitScope::kTenant);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(limiter.Admit("big", "a"));
}

TEST(RateLimiterTest, ARefusedCallTakesNoTokenFromTheOtherBucket) {
  FakeClock clock;
  RateLimiter limiter({.per_tenant = BucketLimit{.per_second = 1, .burst = 2},
                       .per_caller = BucketLimit{.per_second = 1, .burst = 1}},
                      clock);
  EXPECT_FALSE(limiter.Admit("acme", "a"));
  EXPECT_TRUE(limiter.Admit("acme", "a"));  // caller empty: tenant keeps its token
  EXPECT_FALSE(limiter.Admit("acme", "b"));
}

TEST(RateLimiterTest, NewLimitsApplyOnReload) {
  FakeClock clock;
  RateLimiter limiter({}, clock);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(limiter.Admit("acme", "a"));
  limiter.SetLimits({.per_caller = BucketLimit{.per_second = 1, .burst = 1}});
  EXPECT_FALSE(limiter.Admit("acme", "a"));
  EXPECT_TRUE(limiter.Admit("acme", "a"));
}

TEST(RateLimiterTest, IdleBucketsAreForgottenSoMemoryStaysBounded) {
  FakeClock clock;
  RateLimiter limiter({.per_caller = BucketLimit{.per_second = 1, .burst = 1}}, clock,
                      /*max_buckets=*/10);
  for (int i = 0; i < 100; ++i) limiter.Admit("acme", "user" + std::to_string(i));
  // Buckets in use are kept...
  EXPECT_EQ(limiter.bucket_count(), 100u);
  // ...and once they are full again, the next call forgets them.
  clock.Advance(absl::Seconds(2));
  limiter.Admit("acme", "someone");
  EXPECT_EQ(limiter.bucket_count(), 1u);
}

}  // namespace
}  // namespace flywheel::auth
