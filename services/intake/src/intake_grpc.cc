#include "intake_grpc.h"

namespace flywheel::intake {
namespace {

using auth::Role;
using rpc::Refuse;

absl::Status Unimplemented() {
  return absl::UnimplementedError("request types come from intake's policy file");
}

}  // namespace

// Who may call what, per tenant. Every caller also acts only for the tenant
// of its token: a request naming another tenant is PERMISSION_DENIED before
// anything is read. Inside its tenant, a request id of another tenant is
// simply not there: NOT_FOUND, as for an id that never existed.
const auth::RoleTable& IntakeRoles() {
  static const auth::RoleTable table(
      "flywheel.intake.v1.IntakeService",
      {
          {"SubmitRequest", {Role::kRequester, Role::kOpsAdmin, Role::kService}},
          {"GetRequest",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListRequests",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"UpdateRequest", {Role::kRequester, Role::kOpsAdmin, Role::kService}},
          {"CancelRequest", {Role::kRequester, Role::kOpsAdmin, Role::kService}},
          {"UpsertRequestType", {Role::kOpsAdmin}},
          {"GetRequestType",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListRequestTypes",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
      });
  return table;
}

// Admission runs on the gRPC thread (it does no I/O); the call then runs as
// a coroutine, and `request` lives until the call is finished.

::grpc::ServerUnaryReactor* IntakeGrpc::SubmitRequest(::grpc::CallbackServerContext* context,
                                                      const v1::SubmitRequestRequest* request,
                                                      v1::SubmitRequestResponse* response) {
  auto caller = guard_.AdmitFor(*context, "SubmitRequest", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, intake_.Submit(*request));
}

::grpc::ServerUnaryReactor* IntakeGrpc::GetRequest(::grpc::CallbackServerContext* context,
                                                   const v1::GetRequestRequest* request,
                                                   v1::GetRequestResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetRequest", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, intake_.Get(*request));
}

::grpc::ServerUnaryReactor* IntakeGrpc::ListRequests(::grpc::CallbackServerContext* context,
                                                     const v1::ListRequestsRequest* request,
                                                     v1::ListRequestsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListRequests", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, intake_.List(*request));
}

::grpc::ServerUnaryReactor* IntakeGrpc::UpdateRequest(::grpc::CallbackServerContext* context,
                                                      const v1::UpdateRequestRequest* request,
                                                      v1::UpdateRequestResponse* response) {
  auto caller = guard_.AdmitFor(*context, "UpdateRequest", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->actor_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  v1::UpdateRequestRequest as_caller = *request;
  as_caller.set_actor_id(*actor);
  return calls_.Run(context, response, Update(std::move(as_caller)));
}

::grpc::ServerUnaryReactor* IntakeGrpc::CancelRequest(::grpc::CallbackServerContext* context,
                                                      const v1::CancelRequestRequest* request,
                                                      v1::CancelRequestResponse* response) {
  auto caller = guard_.AdmitFor(*context, "CancelRequest", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->actor_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  v1::CancelRequestRequest as_caller = *request;
  as_caller.set_actor_id(*actor);
  return calls_.Run(context, response, Cancel(std::move(as_caller)));
}

::grpc::ServerUnaryReactor* IntakeGrpc::UpsertRequestType(
    ::grpc::CallbackServerContext* context, const v1::UpsertRequestTypeRequest* request,
    v1::UpsertRequestTypeResponse* response) {
  auto caller = guard_.AdmitFor(*context, "UpsertRequestType", request->request_type().tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

::grpc::ServerUnaryReactor* IntakeGrpc::GetRequestType(::grpc::CallbackServerContext* context,
                                                       const v1::GetRequestTypeRequest* request,
                                                       v1::GetRequestTypeResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetRequestType", request->tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

::grpc::ServerUnaryReactor* IntakeGrpc::ListRequestTypes(::grpc::CallbackServerContext* context,
                                                         const v1::ListRequestTypesRequest* request,
                                                         v1::ListRequestTypesResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListRequestTypes", request->tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

// The request as the caller acts on it lives in the coroutine's frame.
asio::awaitable<absl::StatusOr<v1::UpdateRequestResponse>> IntakeGrpc::Update(
    v1::UpdateRequestRequest as_caller) {
  co_return co_await intake_.Update(as_caller);
}

asio::awaitable<absl::StatusOr<v1::CancelRequestResponse>> IntakeGrpc::Cancel(
    v1::CancelRequestRequest as_caller) {
  co_return co_await intake_.Cancel(as_caller);
}

}  // namespace flywheel::intake
