#include "flywheel/auth/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "flywheel/core/retry_delay.h"

namespace flywheel::auth {

absl::Duration TokenBucket::Wait(absl::Time now) {
  if (now > at_) {
    tokens_ =
        std::min(limit_.burst, tokens_ + absl::ToDoubleSeconds(now - at_) * limit_.per_second);
    at_ = now;
  }
  if (tokens_ >= 1) return absl::ZeroDuration();
  if (limit_.per_second <= 0) return absl::InfiniteDuration();
  // Rounded up to the millisecond, so a retry after the delay finds a token.
  const double seconds = (1 - tokens_) / limit_.per_second;
  return absl::Milliseconds(std::ceil(seconds * 1000));
}

void TokenBucket::Reshape(BucketLimit limit) {
  limit_ = limit;
  tokens_ = std::min(tokens_, limit.burst);
}

std::string_view LimitScopeName(LimitScope scope) {
  return scope == LimitScope::kTenant ? "tenant" : "caller";
}

RateLimiter::RateLimiter(RateLimits limits, const Clock& clock, size_t max_buckets)
    : clock_(clock), max_buckets_(max_buckets), limits_(std::move(limits)) {}

TokenBucket& RateLimiter::Bucket(absl::flat_hash_map<std::string, TokenBucket>& buckets,
                                 std::string key, BucketLimit limit, absl::Time now) {
  auto [it, made] = buckets.try_emplace(std::move(key), limit, now);
  if (!made && !(it->second.limit() == limit)) it->second.Reshape(limit);
  return it->second;
}

void RateLimiter::Forget(absl::Time now) {
  for (auto* buckets : {&tenants_, &callers_}) {
    if (buckets->size() <= max_buckets_) continue;
    absl::erase_if(*buckets, [now](auto& entry) {
      entry.second.Wait(now);  // refill first
      return entry.second.Full();
    });
  }
}

std::optional<RateLimiter::Refusal> RateLimiter::Admit(std::string_view tenant,
                                                       std::string_view user_id) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  Forget(now);
  TokenBucket* tenant_bucket = nullptr;
  TokenBucket* caller_bucket = nullptr;
  std::optional<BucketLimit> tenant_limit = limits_.per_tenant;
  if (auto it = limits_.tenant_overrides.find(std::string(tenant));
      it != limits_.tenant_overrides.end()) {
    tenant_limit = it->second;
  }
  if (tenant_limit) {
    tenant_bucket = &Bucket(tenants_, std::string(tenant), *tenant_limit, now);
  }
  if (limits_.per_caller) {
    caller_bucket = &Bucket(callers_, absl::StrCat(std::string(tenant), "/", std::string(user_id)),
                            *limits_.per_caller, now);
  }
  // The caller first: one busy caller is told so, not that the tenant is.
  for (auto [bucket, scope] : {std::pair{caller_bucket, LimitScope::kCaller},
                               std::pair{tenant_bucket, LimitScope::kTenant}}) {
    if (bucket == nullptr) continue;
    const absl::Duration wait = bucket->Wait(now);
    if (wait > absl::ZeroDuration()) {
      const std::string whose = scope == LimitScope::kCaller ? "this caller" : "this tenant";
      return Refusal{WithRetryDelay(absl::ResourceExhaustedError(absl::StrCat(
                                        "rate limit of ", whose, " reached; retry after ",
                                        absl::FormatDuration(wait))),
                                    wait),
                     scope};
    }
  }
  if (caller_bucket != nullptr) caller_bucket->Take();
  if (tenant_bucket != nullptr) tenant_bucket->Take();
  return std::nullopt;
}

size_t RateLimiter::bucket_count() const {
  absl::MutexLock lock(&mu_);
  return tenants_.size() + callers_.size();
}

void RateLimiter::SetLimits(RateLimits limits) {
  absl::MutexLock lock(&mu_);
  limits_ = std::move(limits);
}

}  // namespace flywheel::auth
