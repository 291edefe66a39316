#pragma once

#include <asio/awaitable.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "flywheel/core/clock.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"
#include "redis_timer_store.h"
#include "timers.h"

namespace flywheel::scheduler {

/// The most timers one request's pause or resume acts on.
inline constexpr size_t kMostTimersPerRequest = 1000;

/// The timers of one request, found through the store's index of requests
/// (`RedisTimerStore::OfRequest`): listed, paused or
/// resumed together (a request waiting on its requester stops all its
/// clocks). Thread-safe; coroutines on the caller's executor.
class RequestTimers {
 public:
  /// `clock` stamps page tokens.
  RequestTimers(Timers& timers, RedisTimerStore& index, const Clock& clock)
      : timers_(timers), index_(index), clock_(clock) {}

  /// Pauses every running timer of the request and returns them paused;
  /// those paused already are left out. INVALID_ARGUMENT naming
  /// `request_id` when it is empty.
  asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> Pause(const std::string& tenant_id,
                                                                const std::string& request_id);

  /// Resumes every paused timer of the request and returns them running.
  asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> Resume(const std::string& tenant_id,
                                                                 const std::string& request_id);

  /// The request's timers in the order of their ids, only those in
  /// `states` when it names any, paged (the convention of common.proto).
  /// INVALID_ARGUMENT naming `request_id` when it is empty, `page_size` or
  /// `page_token` when they are not valid.
  asio::awaitable<absl::StatusOr<v1::ListTimersResponse>> List(const v1::ListTimersRequest& r);

 private:
  // Pause (true) or Resume (false) on every timer of the request.
  asio::awaitable<absl::StatusOr<std::vector<v1::Timer>>> ForEach(const std::string& tenant_id,
                                                                  const std::string& request_id,
                                                                  bool pause);

  Timers& timers_;
  RedisTimerStore& index_;
  const Clock& clock_;
};

}  // namespace flywheel::scheduler
