#include "intake_grpc.h"

#include "flywheel/grpc/status.h"

namespace flywheel::intake {
namespace {

template <typename Response>
::grpc::Status Answer(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  *response = *std::move(result);
  return ::grpc::Status::OK;
}

}  // namespace

::grpc::Status IntakeGrpc::SubmitRequest(::grpc::ServerContext*,
                                         const v1::SubmitRequestRequest* request,
                                         v1::SubmitRequestResponse* response) {
  return Answer(intake_.Submit(*request), response);
}

::grpc::Status IntakeGrpc::GetRequest(::grpc::ServerContext*, const v1::GetRequestRequest* request,
                                      v1::GetRequestResponse* response) {
  return Answer(intake_.Get(*request), response);
}

::grpc::Status IntakeGrpc::ListRequests(::grpc::ServerContext*,
                                        const v1::ListRequestsRequest* request,
                                        v1::ListRequestsResponse* response) {
  return Answer(intake_.List(*request), response);
}

::grpc::Status IntakeGrpc::UpdateRequest(::grpc::ServerContext*,
                                         const v1::UpdateRequestRequest* request,
                                         v1::UpdateRequestResponse* response) {
  return Answer(intake_.Update(*request), response);
}

::grpc::Status IntakeGrpc::CancelRequest(::grpc::ServerContext*,
                                         const v1::CancelRequestRequest* request,
                                         v1::CancelRequestResponse* response) {
  return Answer(intake_.Cancel(*request), response);
}

}  // namespace flywheel::intake
