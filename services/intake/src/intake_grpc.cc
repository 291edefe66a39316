#include "intake_grpc.h"

#include "flywheel/grpc/status.h"

namespace flywheel::intake {

::grpc::Status IntakeGrpc::SubmitRequest(::grpc::ServerContext*,
                                         const v1::SubmitRequestRequest* request,
                                         v1::SubmitRequestResponse* response) {
  auto result = intake_.Submit(*request);
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return ::grpc::Status::OK;
}

}  // namespace flywheel::intake
