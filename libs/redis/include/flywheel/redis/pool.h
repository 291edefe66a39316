#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/redis/connection.h"

namespace flywheel::redis {

struct PoolOptions {
  /// Used for every connection of the pool (AUTH, db, timeouts, ...).
  ConnectionOptions connection;
  /// Most connections open at once; at least 1.
  size_t capacity = 8;
};

/// A fixed-capacity pool of `Connection`s. Connections are opened lazily, on
/// the first `Acquire` that finds no idle one. Thread-safe: any thread may
/// `Acquire`, and a lease may be released on any thread. Not copyable or
/// movable. The pool must outlive every lease it handed out.
class Pool {
 public:
  /// A connection borrowed from the pool; gives it back when destroyed.
  /// Movable, not copyable. Use from one thread at a time.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn);
    void Release();

    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
  };

  /// INVALID_ARGUMENT for bad options. Connects nothing yet.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  /// Waits up to `timeout` for a free connection and hands it out connected:
  /// an idle connection that broke earlier is reconnected first.
  /// DEADLINE_EXCEEDED when all `capacity` connections stay leased for
  /// `timeout`; UNAVAILABLE (or PERMISSION_DENIED) when (re)connecting fails,
  /// in which case the slot goes back to the pool.
  absl::StatusOr<Lease> Acquire(absl::Duration timeout);

  size_t capacity() const { return options_.capacity; }
  /// Connections currently leased out.
  size_t leased() const;

 private:
  explicit Pool(PoolOptions options);
  void Return(std::unique_ptr<Connection> conn);

  const PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable free_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t created_ = 0;                             // guarded by mu_
  size_t leased_ = 0;                              // guarded by mu_
};

}  // namespace flywheel::redis
