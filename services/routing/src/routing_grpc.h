#pragma once

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/routing/v1/routing_service.grpc.pb.h"
#include "workflow_ops.h"

namespace flywheel::routing {

/// Which roles may call each RoutingService method (see routing_grpc.cc).
const auth::RoleTable& RoutingRoles();

/// The gRPC edge: admits each call through `guard` (token, role table, rate
/// limits, and the tenant the request names must be the caller's), then
/// translates it to `WorkflowOps` and statuses back. Admitted, then
/// UNIMPLEMENTED (policy and teams come from the policy file):
/// GetRoutingPolicy, UpdateRoutingPolicy, UpsertWorkflowTemplate,
/// GetWorkflowTemplate, ListWorkflowTemplates, AssignTask, UpsertTeam,
/// ListTeams. Called on gRPC's threads.
class RoutingGrpc final : public v1::RoutingService::Service {
 public:
  RoutingGrpc(WorkflowOps& ops, rpc::Guard& guard) : ops_(ops), guard_(guard) {}

  ::grpc::Status GetRoutingPolicy(::grpc::ServerContext* context,
                                  const v1::GetRoutingPolicyRequest* request,
                                  v1::GetRoutingPolicyResponse* response) override;
  ::grpc::Status UpdateRoutingPolicy(::grpc::ServerContext* context,
                                     const v1::UpdateRoutingPolicyRequest* request,
                                     v1::UpdateRoutingPolicyResponse* response) override;
  ::grpc::Status UpsertWorkflowTemplate(::grpc::ServerContext* context,
                                        const v1::UpsertWorkflowTemplateRequest* request,
                                        v1::UpsertWorkflowTemplateResponse* response) override;
  ::grpc::Status GetWorkflowTemplate(::grpc::ServerContext* context,
                                     const v1::GetWorkflowTemplateRequest* request,
                                     v1::GetWorkflowTemplateResponse* response) override;
  ::grpc::Status ListWorkflowTemplates(::grpc::ServerContext* context,
                                       const v1::ListWorkflowTemplatesRequest* request,
                                       v1::ListWorkflowTemplatesResponse* response) override;
  ::grpc::Status GetWorkflow(::grpc::ServerContext* context, const v1::GetWorkflowRequest* request,
                             v1::GetWorkflowResponse* response) override;
  ::grpc::Status AdvanceStage(::grpc::ServerContext* context,
                              const v1::AdvanceStageRequest* request,
                              v1::AdvanceStageResponse* response) override;
  ::grpc::Status AssignTask(::grpc::ServerContext* context, const v1::AssignTaskRequest* request,
                            v1::AssignTaskResponse* response) override;
  ::grpc::Status ListQueue(::grpc::ServerContext* context, const v1::ListQueueRequest* request,
                           v1::ListQueueResponse* response) override;
  ::grpc::Status UpsertTeam(::grpc::ServerContext* context, const v1::UpsertTeamRequest* request,
                            v1::UpsertTeamResponse* response) override;
  ::grpc::Status GetTeam(::grpc::ServerContext* context, const v1::GetTeamRequest* request,
                         v1::GetTeamResponse* response) override;
  ::grpc::Status ListTeams(::grpc::ServerContext* context, const v1::ListTeamsRequest* request,
                           v1::ListTeamsResponse* response) override;
  ::grpc::Status JoinTeam(::grpc::ServerContext* context, const v1::JoinTeamRequest* request,
                          v1::JoinTeamResponse* response) override;
  ::grpc::Status LeaveTeam(::grpc::ServerContext* context, const v1::LeaveTeamRequest* request,
                           v1::LeaveTeamResponse* response) override;
  ::grpc::Status UpdateMember(::grpc::ServerContext* context,
                              const v1::UpdateMemberRequest* request,
                              v1::UpdateMemberResponse* response) override;
  ::grpc::Status GetTeamCapacity(::grpc::ServerContext* context,
                                 const v1::GetTeamCapacityRequest* request,
                                 v1::GetTeamCapacityResponse* response) override;

 private:
  WorkflowOps& ops_;
  rpc::Guard& guard_;
};

}  // namespace flywheel::routing
