#pragma once

#include "flywheel/intake/v1/intake_service.grpc.pb.h"
#include "intake.h"

namespace flywheel::intake {

/// The gRPC edge: translates calls to `Intake` and statuses back. Methods not
/// overridden (the request-type RPCs: types come from the policy file)
/// answer UNIMPLEMENTED.
class IntakeGrpc final : public v1::IntakeService::Service {
 public:
  explicit IntakeGrpc(Intake& intake) : intake_(intake) {}

  ::grpc::Status SubmitRequest(::grpc::ServerContext* context,
                               const v1::SubmitRequestRequest* request,
                               v1::SubmitRequestResponse* response) override;
  ::grpc::Status GetRequest(::grpc::ServerContext* context, const v1::GetRequestRequest* request,
                            v1::GetRequestResponse* response) override;
  ::grpc::Status ListRequests(::grpc::ServerContext* context,
                              const v1::ListRequestsRequest* request,
                              v1::ListRequestsResponse* response) override;
  ::grpc::Status UpdateRequest(::grpc::ServerContext* context,
                               const v1::UpdateRequestRequest* request,
                               v1::UpdateRequestResponse* response) override;
  ::grpc::Status CancelRequest(::grpc::ServerContext* context,
                               const v1::CancelRequestRequest* request,
                               v1::CancelRequestResponse* response) override;

 private:
  Intake& intake_;
};

}  // namespace flywheel::intake
