#pragma once

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "intake.h"

namespace flywheel::intake {

/// Which roles may call each IntakeService method (see intake_grpc.cc).
const auth::RoleTable& IntakeRoles();

/// The gRPC edge, on gRPC's callback API. Each call is first admitted by
/// `guard` on the gRPC thread (token, role table, rate limits, and the
/// tenant the request names must be the caller's; no I/O), then runs as a
/// coroutine of `Intake` on `io`, so no thread waits for Redis or the
/// broker; beyond `calls.max_in_flight` calls at once a call is answered
/// UNAVAILABLE at once. The request-type RPCs are admitted too, then answer
/// UNIMPLEMENTED: types come from the policy file.
///
/// Destroy it only after the server serving it has shut down and `io`'s
/// threads have stopped.
class IntakeGrpc final : public v1::IntakeService::CallbackService {
 public:
  IntakeGrpc(Intake& intake, rpc::Guard& guard, asio::io_context& io,
             rpc::CoroutineCallsOptions calls = {})
      : intake_(intake), guard_(guard), calls_(io, calls) {}

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
  ::grpc::ServerUnaryReactor* UpsertRequestType(::grpc::CallbackServerContext* context,
                                                const v1::UpsertRequestTypeRequest* request,
                                                v1::UpsertRequestTypeResponse* response) override;
  ::grpc::ServerUnaryReactor* GetRequestType(::grpc::CallbackServerContext* context,
                                             const v1::GetRequestTypeRequest* request,
                                             v1::GetRequestTypeResponse* response) override;
  ::grpc::ServerUnaryReactor* ListRequestTypes(::grpc::CallbackServerContext* context,
                                               const v1::ListRequestTypesRequest* request,
                                               v1::ListRequestTypesResponse* response) override;

 private:
  asio::awaitable<absl::StatusOr<v1::UpdateRequestResponse>> Update(
      v1::UpdateRequestRequest as_caller);
  asio::awaitable<absl::StatusOr<v1::CancelRequestResponse>> Cancel(
      v1::CancelRequestRequest as_caller);

  Intake& intake_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::intake
