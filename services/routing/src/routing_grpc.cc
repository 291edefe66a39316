#include "routing_grpc.h"

#include "flywheel/grpc/status.h"

namespace flywheel::routing {
namespace {

using auth::Role;

// Stores the value of `result` with `set` or returns its status, translated.
template <typename T, typename Set>
::grpc::Status Reply(absl::StatusOr<T> result, Set set) {
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  set(*std::move(result));
  return ::grpc::Status::OK;
}

::grpc::Status Unimplemented() {
  return ::grpc::Status(::grpc::StatusCode::UNIMPLEMENTED,
                        "templates, rules and teams come from routing's policy file");
}

}  // namespace

// Who may call what, per tenant. A request naming another tenant than the
// caller's is PERMISSION_DENIED before anything is read; inside the tenant,
// another tenant's request or team id is NOT_FOUND, as an unknown one.
// AdvanceStage also needs the caller to be the stage's assignee or the
// workflow's owner unless it is ops-admin (WorkflowOps::AdvanceStage).
const auth::RoleTable& RoutingRoles() {
  const auto kAll = {Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin,
                     Role::kService};
  const auto kWorkers = {Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService};
  const auto kOps = {Role::kOpsAdmin, Role::kService};
  static const auth::RoleTable table("flywheel.routing.v1.RoutingService",
                                     {
                                         {"GetRoutingPolicy", kOps},
                                         {"UpdateRoutingPolicy", {Role::kOpsAdmin}},
                                         {"UpsertWorkflowTemplate", {Role::kOpsAdmin}},
                                         {"GetWorkflowTemplate", kAll},
                                         {"ListWorkflowTemplates", kAll},
                                         {"GetWorkflow", kAll},
                                         {"AdvanceStage", kWorkers},
                                         {"AssignTask", kOps},
                                         {"ListQueue", kWorkers},
                                         {"UpsertTeam", {Role::kOpsAdmin}},
                                         {"GetTeam", kWorkers},
                                         {"ListTeams", kWorkers},
                                         {"JoinTeam", kOps},
                                         {"LeaveTeam", kOps},
                                         {"UpdateMember", kOps},
                                         {"GetTeamCapacity", kWorkers},
                                     });
  return table;
}

::grpc::Status RoutingGrpc::GetRoutingPolicy(::grpc::ServerContext* context,
                                             const v1::GetRoutingPolicyRequest* request,
                                             v1::GetRoutingPolicyResponse*) {
  auto caller = guard_.AdmitFor(*context, "GetRoutingPolicy", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::UpdateRoutingPolicy(::grpc::ServerContext* context,
                                                const v1::UpdateRoutingPolicyRequest* request,
                                                v1::UpdateRoutingPolicyResponse*) {
  auto caller = guard_.AdmitFor(*context, "UpdateRoutingPolicy", request->policy().tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::UpsertWorkflowTemplate(::grpc::ServerContext* context,
                                                   const v1::UpsertWorkflowTemplateRequest* request,
                                                   v1::UpsertWorkflowTemplateResponse*) {
  auto caller =
      guard_.AdmitFor(*context, "UpsertWorkflowTemplate", request->template_().tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::GetWorkflowTemplate(::grpc::ServerContext* context,
                                                const v1::GetWorkflowTemplateRequest* request,
                                                v1::GetWorkflowTemplateResponse*) {
  auto caller = guard_.AdmitFor(*context, "GetWorkflowTemplate", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::ListWorkflowTemplates(::grpc::ServerContext* context,
                                                  const v1::ListWorkflowTemplatesRequest* request,
                                                  v1::ListWorkflowTemplatesResponse*) {
  auto caller = guard_.AdmitFor(*context, "ListWorkflowTemplates", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::GetWorkflow(::grpc::ServerContext* context,
                                        const v1::GetWorkflowRequest* request,
                                        v1::GetWorkflowResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetWorkflow", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.GetWorkflow(*request),
               [&](v1::WorkflowInstance w) { *response->mutable_workflow() = std::move(w); });
}

::grpc::Status RoutingGrpc::AdvanceStage(::grpc::ServerContext* context,
                                         const v1::AdvanceStageRequest* request,
                                         v1::AdvanceStageResponse* response) {
  auto caller = guard_.AdmitFor(*context, "AdvanceStage", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.AdvanceStage(*caller, *request),
               [&](v1::WorkflowInstance w) { *response->mutable_workflow() = std::move(w); });
}

::grpc::Status RoutingGrpc::AssignTask(::grpc::ServerContext* context,
                                       const v1::AssignTaskRequest* request,
                                       v1::AssignTaskResponse*) {
  auto caller = guard_.AdmitFor(*context, "AssignTask", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::ListQueue(::grpc::ServerContext* context,
                                      const v1::ListQueueRequest* request,
                                      v1::ListQueueResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListQueue", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.ListQueue(*request),
               [&](v1::ListQueueResponse r) { *response = std::move(r); });
}

::grpc::Status RoutingGrpc::UpsertTeam(::grpc::ServerContext* context,
                                       const v1::UpsertTeamRequest* request,
                                       v1::UpsertTeamResponse*) {
  auto caller = guard_.AdmitFor(*context, "UpsertTeam", request->team().tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::GetTeam(::grpc::ServerContext* context,
                                    const v1::GetTeamRequest* request,
                                    v1::GetTeamResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetTeam", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.GetTeam(request->tenant_id(), request->team_id()),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::ListTeams(::grpc::ServerContext* context,
                                      const v1::ListTeamsRequest* request, v1::ListTeamsResponse*) {
  auto caller = guard_.AdmitFor(*context, "ListTeams", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Unimplemented();
}

::grpc::Status RoutingGrpc::JoinTeam(::grpc::ServerContext* context,
                                     const v1::JoinTeamRequest* request,
                                     v1::JoinTeamResponse* response) {
  auto caller = guard_.AdmitFor(*context, "JoinTeam", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.JoinTeam(*request),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::LeaveTeam(::grpc::ServerContext* context,
                                      const v1::LeaveTeamRequest* request,
                                      v1::LeaveTeamResponse* response) {
  auto caller = guard_.AdmitFor(*context, "LeaveTeam", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.LeaveTeam(*request),
               [&](v1::LeaveTeamResponse r) { *response = std::move(r); });
}

::grpc::Status RoutingGrpc::UpdateMember(::grpc::ServerContext* context,
                                         const v1::UpdateMemberRequest* request,
                                         v1::UpdateMemberResponse* response) {
  auto caller = guard_.AdmitFor(*context, "UpdateMember", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.UpdateMember(*request),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::GetTeamCapacity(::grpc::ServerContext* context,
                                            const v1::GetTeamCapacityRequest* request,
                                            v1::GetTeamCapacityResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetTeamCapacity", request->tenant_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  return Reply(ops_.GetTeamCapacity(*request),
               [&](v1::GetTeamCapacityResponse r) { *response = std::move(r); });
}

}  // namespace flywheel::routing
