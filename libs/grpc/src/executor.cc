#include <cstdlib>

#include "flywheel/grpc/async.h"
#include "flywheel/log/log.h"

namespace flywheel::rpc {

Executor::Executor(ExecutorOptions options) : options_(options) {
  if (options_.threads <= 0 || options_.queue_limit == 0) {
    log::Error("executor options must be positive",
               {{"threads", options_.threads}, {"queue_limit", options_.queue_limit}});
    std::abort();
  }
  threads_.reserve(options_.threads);
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Work(); });
}

Executor::~Executor() { Stop(); }

bool Executor::TrySchedule(absl::AnyInvocable<void() &&> work) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= options_.queue_limit) return false;
  queue_.push_back(std::move(work));
  return true;
}

void Executor::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

size_t Executor::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Executor::Work() {
  for (;;) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      // Stopping still runs what was queued before it.
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

absl::Status Overloaded() {
  return absl::UnavailableError("the server is overloaded; retry with backoff");
}

}  // namespace flywheel::rpc
