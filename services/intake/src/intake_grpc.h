#pragma once

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/async.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "intake.h"

namespace flywheel::intake {

/// Which roles may call each IntakeService method (see intake_grpc.cc).
const auth::RoleTable& IntakeRoles();

/// The gRPC edge, on gRPC's callback API. Each call is first admitted by
/// `guard` on the gRPC thread (token, role table, rate limits, and the
/// tenant the request names must be the caller's; no I/O), then translated
/// to `Intake` on this edge's own executor, so gRPC's threads never wait for
/// Redis or the broker; when the executor's queue is full a call is
/// answered UNAVAILABLE at once. The request-type RPCs are admitted too,
/// then answer UNIMPLEMENTED: types come from the policy file.
///
/// Destroy it only after the server serving it has shut down (the executor
/// then runs what is queued and stops).
class IntakeGrpc final : public v1::IntakeService::CallbackService {
 public:
  IntakeGrpc(Intake& intake, rpc::Guard& guard, rpc::ExecutorOptions executor = {.threads = 64})
      : intake_(intake), guard_(guard), executor_(executor) {}

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
  Intake& intake_;
  rpc::Guard& guard_;
  rpc::Executor executor_;
};

}  // namespace flywheel::intake
