#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flywheel/core/clock.h"

namespace flywheel::auth {

/// A token bucket's shape: `per_second` calls on average, up to `burst` at once.
struct BucketLimit {
  double per_second = 0;
  double burst = 0;
  bool operator==(const BucketLimit&) const = default;
};

/// A token bucket. Starts full. Not thread-safe (the limiter locks).
class TokenBucket {
 public:
  TokenBucket(BucketLimit limit, absl::Time now) : limit_(limit), tokens_(limit.burst), at_(now) {}

  /// Refills for the time since the last call; then, when a whole token is
  /// there, zero (take it with `Take`); otherwise how long until there is.
  absl::Duration Wait(absl::Time now);
  /// Takes one token; call after `Wait` returned zero.
  void Take() { tokens_ -= 1; }
  /// Whether the bucket is full (idle long enough to forget).
  bool Full() const { return tokens_ >= limit_.burst; }
  /// Keeps the tokens held, capped at the new burst.
  void Reshape(BucketLimit limit);
  const BucketLimit& limit() const { return limit_; }

 private:
  BucketLimit limit_;
  double tokens_;
  absl::Time at_;
};

/// The limits a `RateLimiter` enforces; a limit left unset does not limit.
struct RateLimits {
  /// Every tenant's calls together.
  std::optional<BucketLimit> per_tenant;
  /// One caller's calls (tenant and user id).
  std::optional<BucketLimit> per_caller;
  /// A tenant's own `per_tenant`, by tenant.
  absl::flat_hash_map<std::string, BucketLimit> tenant_overrides;
};

/// Which bucket refused a call; bounded, so fit for a metric label.
enum class LimitScope { kTenant, kCaller };
std::string_view LimitScopeName(LimitScope scope);  // `tenant`, `caller`

/// Token buckets per tenant and per caller. `Admit` takes a token from both
/// or from neither. Buckets are made on first use and forgotten when full
/// once more than `max_buckets` exist, so memory stays bounded whatever
/// ids callers send. Thread-safe.
class RateLimiter {
 public:
  /// A refusal: RESOURCE_EXHAUSTED with a retry delay (`RetryDelayOf`), and
  /// which bucket refused.
  struct Refusal {
    absl::Status status;
    LimitScope scope;
  };

  RateLimiter(RateLimits limits, const Clock& clock, size_t max_buckets = 100'000);

  /// Nothing when the call may go ahead (a token was taken from each of its
  /// buckets); otherwise the refusal.
  std::optional<Refusal> Admit(std::string_view tenant, std::string_view user_id);

  /// Swaps the limits in (a reload); buckets keep their tokens, capped.
  void SetLimits(RateLimits limits);

  /// Buckets held now, tenants' and callers'.
  size_t bucket_count() const;

 private:
  // The bucket of `key` with `limit`, made when missing.
  TokenBucket& Bucket(absl::flat_hash_map<std::string, TokenBucket>& buckets, std::string key,
                      BucketLimit limit, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const size_t max_buckets_;
  mutable absl::Mutex mu_;
  RateLimits limits_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, TokenBucket> tenants_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, TokenBucket> callers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flywheel::auth
