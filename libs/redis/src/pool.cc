#include "flywheel/redis/pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace flywheel::redis {

Pool::Lease::Lease(Pool* pool, std::unique_ptr<Connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

Pool::Lease::~Lease() { Release(); }

void Pool::Lease::Release() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Return(std::move(conn_));
  pool_ = nullptr;
  conn_.reset();
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  if (options.capacity < 1) return absl::InvalidArgumentError("redis pool capacity must be >= 1");
  if (absl::Status s = options.connection.Validate(); !s.ok()) return s;
  return std::unique_ptr<Pool>(new Pool(std::move(options)));
}

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() {
  std::lock_guard<std::mutex> lock(mu_);
  if (leased_ != 0) {
    std::fprintf(stderr, "flywheel::redis::Pool destroyed with %zu connection(s) leased\n",
                 leased_);
    std::abort();
  }
}

size_t Pool::leased() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leased_;
}

absl::StatusOr<Pool::Lease> Pool::Acquire(absl::Duration timeout) {
  // Clamped so an infinite timeout does not overflow the time point.
  const absl::Duration wait = std::clamp(timeout, absl::ZeroDuration(), absl::Hours(24 * 365));
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(wait);
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    bool got = free_cv_.wait_until(lock, deadline,
                                   [&] { return !idle_.empty() || created_ < options_.capacity; });
    if (!got) {
      return absl::DeadlineExceededError(absl::StrCat("redis pool: all ", options_.capacity,
                                                      " connections stayed leased for ",
                                                      absl::FormatDuration(timeout)));
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      conn = std::make_unique<Connection>(Connection::Deferred(options_.connection));
      ++created_;
    }
    ++leased_;
  }
  // (Re)connecting happens outside the lock so other threads keep going.
  Lease lease(this, std::move(conn));
  if (absl::Status s = lease->EnsureConnected(); !s.ok()) return s;  // lease returns the slot
  return lease;
}

void Pool::Return(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
    --leased_;
  }
  free_cv_.notify_one();
}

}  // namespace flywheel::redis
