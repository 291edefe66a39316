#pragma once

#include "flywheel/grpc/async.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "intake.h"

namespace flywheel::intake {

/// The gRPC edge, on gRPC's callback API: translates calls to `Intake` and
/// statuses back. `Intake` waits on Redis and the broker, so every call runs
/// on this edge's own executor and gRPC's threads never wait for it; when
/// the executor's queue is full a call is answered UNAVAILABLE at once.
/// Methods not overridden (the request-type RPCs: types come from the policy
/// file) answer UNIMPLEMENTED.
///
/// Destroy it only after the server serving it has shut down (the executor
/// then runs what is queued and stops).
class IntakeGrpc final : public v1::IntakeService::CallbackService {
 public:
  explicit IntakeGrpc(Intake& intake, rpc::ExecutorOptions executor = {.threads = 64})
      : intake_(intake), executor_(executor) {}

  ::grpc::ServerUnaryReactor* SubmitRequest(::grpc::CallbackServerContext* context,
                                            const v1::SubmitRequestRequest* request,
                                            v1::SubmitRequestResponse* response) override;
  ::grpc::ServerUnaryReactor* GetRequest(::grpc::CallbackServerContext* context,
                                         const v1::GetRequestRequest* request,
                                         v1::GetRequestResponse* response) override;
  ::grpc::ServerUnaryReactor* ListRequests(::grpc::CallbackServerContext* context,
                                           const v1::ListRequestsRequest* request,
                                           v1::ListRequestsResponse* response) override;
  ::grpc::ServerUnaryReactor* UpdateRequest(::grpc::CallbackServerContext* context,
                                            const v1::UpdateRequestRequest* request,
                                            v1::UpdateRequestResponse* response) override;
  ::grpc::ServerUnaryReactor* CancelRequest(::grpc::CallbackServerContext* context,
                                            const v1::CancelRequestRequest* request,
                                            v1::CancelRequestResponse* response) override;

 private:
  Intake& intake_;
  rpc::Executor executor_;
};

}  // namespace flywheel::intake
