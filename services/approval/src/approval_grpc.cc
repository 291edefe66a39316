#include "approval_grpc.h"

namespace flywheel::approval {
namespace {

using auth::Role;
using rpc::Refuse;

absl::Status Unimplemented() {
  return absl::UnimplementedError("approval policies come from the approval service's policy file");
}

}  // namespace

// Who may call what, per tenant; every caller acts only for its token's
// tenant. Everyone working on requests may read chains, versions, comments
// and trails, and comment. The roles are the door; who may decide a step is the chain's to
// say (PERMISSION_DENIED for anyone it does not designate).
const auth::RoleTable& ApprovalRoles() {
  static const auth::RoleTable table(
      "flywheel.approval.v1.ApprovalService",
      {
          {"UpsertApprovalPolicy", {Role::kOpsAdmin}},
          {"GetApprovalPolicy",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListApprovalPolicies",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"GetChain",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"Decide", {Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"SubmitVersion", {Role::kCreator, Role::kRequester, Role::kOpsAdmin, Role::kService}},
          {"ListVersions",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"AddComment",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListComments",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ResolveComment",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListAuditEntries",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ListPendingApprovals", {Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"Delegate", {Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"VerifyAudit",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
          {"ExportAudit",
           {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService}},
      });
  return table;
}

// Admission runs on the gRPC thread (no I/O); `request` lives until the
// call is finished.

::grpc::ServerUnaryReactor* ApprovalGrpc::GetChain(::grpc::CallbackServerContext* context,
                                                   const v1::GetChainRequest* request,
                                                   v1::GetChainResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetChain", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.GetChain(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::Decide(::grpc::CallbackServerContext* context,
                                                 const v1::DecideRequest* request,
                                                 v1::DecideResponse* response) {
  auto caller = guard_.AdmitFor(*context, "Decide", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->approver_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(
      context, response,
      As<v1::DecideRequest, v1::DecideResponse>(*std::move(actor), request, &Approvals::Decide));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::SubmitVersion(::grpc::CallbackServerContext* context,
                                                        const v1::SubmitVersionRequest* request,
                                                        v1::SubmitVersionResponse* response) {
  auto caller = guard_.AdmitFor(*context, "SubmitVersion", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->submitter_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(context, response,
                    As<v1::SubmitVersionRequest, v1::SubmitVersionResponse>(
                        *std::move(actor), request, &Approvals::SubmitVersion));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ListVersions(::grpc::CallbackServerContext* context,
                                                       const v1::ListVersionsRequest* request,
                                                       v1::ListVersionsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListVersions", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.ListVersions(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::AddComment(::grpc::CallbackServerContext* context,
                                                     const v1::AddCommentRequest* request,
                                                     v1::AddCommentResponse* response) {
  auto caller = guard_.AdmitFor(*context, "AddComment", request->comment().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->comment().author_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(context, response,
                    As<v1::AddCommentRequest, v1::AddCommentResponse>(*std::move(actor), request,
                                                                      &Approvals::AddComment));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ListComments(::grpc::CallbackServerContext* context,
                                                       const v1::ListCommentsRequest* request,
                                                       v1::ListCommentsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListComments", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.ListComments(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ResolveComment(::grpc::CallbackServerContext* context,
                                                         const v1::ResolveCommentRequest* request,
                                                         v1::ResolveCommentResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ResolveComment", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->actor_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(context, response,
                    As<v1::ResolveCommentRequest, v1::ResolveCommentResponse>(
                        *std::move(actor), request, &Approvals::ResolveComment));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ListAuditEntries(
    ::grpc::CallbackServerContext* context, const v1::ListAuditEntriesRequest* request,
    v1::ListAuditEntriesResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListAuditEntries", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.ListAuditEntries(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ListPendingApprovals(
    ::grpc::CallbackServerContext* context, const v1::ListPendingApprovalsRequest* request,
    v1::ListPendingApprovalsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListPendingApprovals", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->approver_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(context, response,
                    As<v1::ListPendingApprovalsRequest, v1::ListPendingApprovalsResponse>(
                        *std::move(actor), request, &Approvals::ListPending));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::Delegate(::grpc::CallbackServerContext* context,
                                                   const v1::DelegateRequest* request,
                                                   v1::DelegateResponse* response) {
  auto caller = guard_.AdmitFor(*context, "Delegate", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  auto actor = auth::ActingUser(*caller, request->delegator_id());
  if (!actor.ok()) return Refuse(context, response, actor.status());
  return calls_.Run(context, response,
                    As<v1::DelegateRequest, v1::DelegateResponse>(*std::move(actor), request,
                                                                  &Approvals::Delegate));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::VerifyAudit(::grpc::CallbackServerContext* context,
                                                      const v1::VerifyAuditRequest* request,
                                                      v1::VerifyAuditResponse* response) {
  auto caller = guard_.AdmitFor(*context, "VerifyAudit", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.VerifyAudit(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ExportAudit(::grpc::CallbackServerContext* context,
                                                      const v1::ExportAuditRequest* request,
                                                      v1::ExportAuditResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ExportAudit", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, approvals_.ExportAudit(*request));
}

::grpc::ServerUnaryReactor* ApprovalGrpc::UpsertApprovalPolicy(
    ::grpc::CallbackServerContext* context, const v1::UpsertApprovalPolicyRequest* request,
    v1::UpsertApprovalPolicyResponse* response) {
  auto caller = guard_.AdmitFor(*context, "UpsertApprovalPolicy", request->policy().tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

::grpc::ServerUnaryReactor* ApprovalGrpc::GetApprovalPolicy(
    ::grpc::CallbackServerContext* context, const v1::GetApprovalPolicyRequest* request,
    v1::GetApprovalPolicyResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetApprovalPolicy", request->tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

::grpc::ServerUnaryReactor* ApprovalGrpc::ListApprovalPolicies(
    ::grpc::CallbackServerContext* context, const v1::ListApprovalPoliciesRequest* request,
    v1::ListApprovalPoliciesResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListApprovalPolicies", request->tenant_id());
  return Refuse(context, response, caller.ok() ? Unimplemented() : caller.status());
}

}  // namespace flywheel::approval
