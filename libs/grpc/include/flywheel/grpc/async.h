#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <utility>

#include "absl/status/statusor.h"
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
///     // Or, for work that waits (Redis, the broker), as a coroutine:
///     return calls_.Run(context, response, store_.Get(*request));
///
/// (`rpc::CoroutineCalls`, coroutine_calls.h).
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

/// Answers a callback call now with an error: one that was not admitted, or
/// cannot be served. The calling (gRPC) thread.
template <typename Response>
::grpc::ServerUnaryReactor* Refuse(::grpc::CallbackServerContext* context, Response* response,
                                   absl::Status status) {
  return Reply(context, response, absl::StatusOr<Response>(std::move(status)));
}

/// The status a call gets when the server takes no more work now.
absl::Status Overloaded();

}  // namespace flywheel::rpc
