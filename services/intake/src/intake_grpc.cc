#include "intake_grpc.h"

namespace flywheel::intake {

// Each work lambda runs on an executor thread; `request` lives until the call
// is finished.

::grpc::ServerUnaryReactor* IntakeGrpc::SubmitRequest(::grpc::CallbackServerContext* context,
                                                      const v1::SubmitRequestRequest* request,
                                                      v1::SubmitRequestResponse* response) {
  return rpc::Offload(context, executor_, response,
                      [this, request] { return intake_.Submit(*request); });
}

::grpc::ServerUnaryReactor* IntakeGrpc::GetRequest(::grpc::CallbackServerContext* context,
                                                   const v1::GetRequestRequest* request,
                                                   v1::GetRequestResponse* response) {
  return rpc::Offload(context, executor_, response,
                      [this, request] { return intake_.Get(*request); });
}

::grpc::ServerUnaryReactor* IntakeGrpc::ListRequests(::grpc::CallbackServerContext* context,
                                                     const v1::ListRequestsRequest* request,
                                                     v1::ListRequestsResponse* response) {
  return rpc::Offload(context, executor_, response,
                      [this, request] { return intake_.List(*request); });
}

::grpc::ServerUnaryReactor* IntakeGrpc::UpdateRequest(::grpc::CallbackServerContext* context,
                                                      const v1::UpdateRequestRequest* request,
                                                      v1::UpdateRequestResponse* response) {
  return rpc::Offload(context, executor_, response,
                      [this, request] { return intake_.Update(*request); });
}

::grpc::ServerUnaryReactor* IntakeGrpc::CancelRequest(::grpc::CallbackServerContext* context,
                                                      const v1::CancelRequestRequest* request,
                                                      v1::CancelRequestResponse* response) {
  return rpc::Offload(context, executor_, response,
                      [this, request] { return intake_.Cancel(*request); });
}

}  // namespace flywheel::intake
