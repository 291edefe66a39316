#pragma once

#include <string>

#include "approvals.h"
#include "flywheel/approval/v1/approval_service.grpc.pb.h"
#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"

namespace flywheel::approval {

/// Which roles may call each ApprovalService method (see approval_grpc.cc).
const auth::RoleTable& ApprovalRoles();

/// The gRPC edge, on gRPC's callback API, intake's shape: each call is
/// admitted by `guard` on the gRPC thread (token, role table, rate limits,
/// the tenant the request names must be the caller's), the acting user is
/// the principal (a person may name only themselves; a service names whom it
/// acts for), then the call runs as a coroutine of `Approvals` on `io`;
/// beyond `calls.max_in_flight` calls at once a call is answered UNAVAILABLE.
/// The three approval-policy RPCs are admitted, then answer UNIMPLEMENTED:
/// chains come from the policy file.
///
/// Destroy it only after the server serving it has shut down and `io`'s
/// threads have stopped.
class ApprovalGrpc final : public v1::ApprovalService::CallbackService {
 public:
  ApprovalGrpc(Approvals& approvals, rpc::Guard& guard, asio::io_context& io,
               rpc::CoroutineCallsOptions calls = {})
      : approvals_(approvals), guard_(guard), calls_(io, calls) {}

  ::grpc::ServerUnaryReactor* GetChain(::grpc::CallbackServerContext* context,
                                       const v1::GetChainRequest* request,
                                       v1::GetChainResponse* response) override;
  ::grpc::ServerUnaryReactor* Decide(::grpc::CallbackServerContext* context,
                                     const v1::DecideRequest* request,
                                     v1::DecideResponse* response) override;
  ::grpc::ServerUnaryReactor* SubmitVersion(::grpc::CallbackServerContext* context,
                                            const v1::SubmitVersionRequest* request,
                                            v1::SubmitVersionResponse* response) override;
  ::grpc::ServerUnaryReactor* ListVersions(::grpc::CallbackServerContext* context,
                                           const v1::ListVersionsRequest* request,
                                           v1::ListVersionsResponse* response) override;
  ::grpc::ServerUnaryReactor* AddComment(::grpc::CallbackServerContext* context,
                                         const v1::AddCommentRequest* request,
                                         v1::AddCommentResponse* response) override;
  ::grpc::ServerUnaryReactor* ListComments(::grpc::CallbackServerContext* context,
                                           const v1::ListCommentsRequest* request,
                                           v1::ListCommentsResponse* response) override;
  ::grpc::ServerUnaryReactor* ResolveComment(::grpc::CallbackServerContext* context,
                                             const v1::ResolveCommentRequest* request,
                                             v1::ResolveCommentResponse* response) override;
  ::grpc::ServerUnaryReactor* ListAuditEntries(::grpc::CallbackServerContext* context,
                                               const v1::ListAuditEntriesRequest* request,
                                               v1::ListAuditEntriesResponse* response) override;
  ::grpc::ServerUnaryReactor* ListPendingApprovals(
      ::grpc::CallbackServerContext* context, const v1::ListPendingApprovalsRequest* request,
      v1::ListPendingApprovalsResponse* response) override;
  ::grpc::ServerUnaryReactor* Delegate(::grpc::CallbackServerContext* context,
                                       const v1::DelegateRequest* request,
                                       v1::DelegateResponse* response) override;
  ::grpc::ServerUnaryReactor* VerifyAudit(::grpc::CallbackServerContext* context,
                                          const v1::VerifyAuditRequest* request,
                                          v1::VerifyAuditResponse* response) override;
  ::grpc::ServerUnaryReactor* ExportAudit(::grpc::CallbackServerContext* context,
                                          const v1::ExportAuditRequest* request,
                                          v1::ExportAuditResponse* response) override;
  ::grpc::ServerUnaryReactor* UpsertApprovalPolicy(
      ::grpc::CallbackServerContext* context, const v1::UpsertApprovalPolicyRequest* request,
      v1::UpsertApprovalPolicyResponse* response) override;
  ::grpc::ServerUnaryReactor* GetApprovalPolicy(::grpc::CallbackServerContext* context,
                                                const v1::GetApprovalPolicyRequest* request,
                                                v1::GetApprovalPolicyResponse* response) override;
  ::grpc::ServerUnaryReactor* ListApprovalPolicies(
      ::grpc::CallbackServerContext* context, const v1::ListApprovalPoliciesRequest* request,
      v1::ListApprovalPoliciesResponse* response) override;

 private:
  // Runs `method` as `actor`, who lives in the coroutine's frame.
  template <typename Request, typename Response>
  using ActingMethod = asio::awaitable<absl::StatusOr<Response>> (Approvals::*)(const std::string&,
                                                                                const Request&);
  template <typename Request, typename Response>
  asio::awaitable<absl::StatusOr<Response>> As(std::string actor, const Request* request,
                                               ActingMethod<Request, Response> method) {
    co_return co_await (approvals_.*method)(actor, *request);
  }

  Approvals& approvals_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::approval
