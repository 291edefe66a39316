#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "flywheel/grpc/status.h"

/// Asynchronous unary handlers on gRPC's callback API.
///
/// A service derives from the generated `Xxx::CallbackService` and is passed
/// to `Server::Start` like a synchronous one: health, reflection, the RED
/// metrics and the drain are the same (the drain waits for a callback call
/// until it is finished, wherever it runs). Each method returns the call's
/// reactor at once, so the gRPC thread that ran it goes back to serving:
///
///   ::grpc::ServerUnaryReactor* Get(::grpc::CallbackServerContext* context,
///                                   const GetRequest* request,
///                                   GetResponse* response) override {
///     // Answer now, when the work never waits:
///     return rpc::Reply(context, response, Lookup(*request));
///     // Or run work that waits (Redis, the broker) on an executor:
///     return rpc::Offload(context, executor_, response,
///                         [this, request] { return store_.Get(*request); });
///   }
///
/// `request` and `response` stay valid until the call is finished.
namespace flywheel::rpc {

/// Finishes `reactor`'s call with `result`: on OK the value is moved into
/// `response`, otherwise the status is mapped with `ToGrpcStatus` (field
/// violations travel as BadRequest details). Any thread; once per call.
template <typename Response>
void Finish(::grpc::ServerUnaryReactor* reactor, Response* response,
            absl::StatusOr<Response> result) {
  if (!result.ok()) {
    reactor->Finish(ToGrpcStatus(result.status()));
    return;
  }
  *response = *std::move(result);
  reactor->Finish(::grpc::Status::OK);
}

/// Answers a callback call now with `result` (see `Finish`). For handlers
/// whose work never waits. The calling (gRPC) thread.
template <typename Response>
::grpc::ServerUnaryReactor* Reply(::grpc::CallbackServerContext* context, Response* response,
                                  absl::StatusOr<Response> result) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, response, std::move(result));
  return reactor;
}

struct ExecutorOptions {
  /// Threads running work; each may block (on Redis, on the broker) without
  /// holding up any gRPC thread.
  int threads = 16;
  /// Tasks waiting for a thread beyond which `TrySchedule` refuses more.
  size_t queue_limit = 4096;
};

/// A fixed pool of threads for work that blocks, fed by a bounded FIFO
/// queue. Thread-safe. Not copyable or movable; the destructor `Stop`s.
class Executor {
 public:
  /// Starts the threads. Options must be positive (checked: aborts
  /// otherwise, as it is a programming error).
  explicit Executor(ExecutorOptions options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Queues `work` to run on one of the threads. False, without running it,
  /// when `queue_limit` tasks are waiting or `Stop` was called.
  bool TrySchedule(absl::AnyInvocable<void() &&> work);

  /// Refuses new work, runs everything already queued, then joins the
  /// threads. Later calls return at once. Not from one of its own threads.
  void Stop();

  /// Tasks waiting for a thread now (not counting those running).
  size_t queued() const;

 private:
  void Work();

  const ExecutorOptions options_;
  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
  absl::Mutex stop_mu_;  // Serialises Stop().
};

/// The status a call gets when its executor refuses the work.
absl::Status Overloaded();

/// Runs `work` (returning `absl::StatusOr<Response>`) on `executor` and
/// finishes the call with its result; returns the reactor at once, so the
/// gRPC thread never waits for the work. When the executor refuses it (queue
/// full, stopping) the call is answered UNAVAILABLE at once; a call whose
/// client went away or whose deadline passed while it was queued is finished
/// CANCELLED without running `work`.
template <typename Response, typename Work>
::grpc::ServerUnaryReactor* Offload(::grpc::CallbackServerContext* context, Executor& executor,
                                    Response* response, Work work) {
  ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool queued =
      executor.TrySchedule([context, reactor, response, work = std::move(work)]() mutable {
        // An executor thread.
        if (context->IsCancelled()) {
          reactor->Finish(::grpc::Status::CANCELLED);
          return;
        }
        Finish(reactor, response, absl::StatusOr<Response>(std::move(work)()));
      });
  if (!queued) reactor->Finish(ToGrpcStatus(Overloaded()));
  return reactor;
}

}  // namespace flywheel::rpc
