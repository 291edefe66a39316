#pragma once

#include "flywheel/routing/v1/routing_service.grpc.pb.h"
#include "workflow_ops.h"

namespace flywheel::routing {

/// The gRPC edge: translates calls to `WorkflowOps` and statuses back.
/// Not overridden, so UNIMPLEMENTED: GetRoutingPolicy, UpdateRoutingPolicy,
/// UpsertWorkflowTemplate, GetWorkflowTemplate, ListWorkflowTemplates,
/// AssignTask, UpsertTeam, ListTeams (policy and teams come from the policy
/// file). Called on gRPC's threads.
class RoutingGrpc final : public v1::RoutingService::Service {
 public:
  explicit RoutingGrpc(WorkflowOps& ops) : ops_(ops) {}

  ::grpc::Status GetWorkflow(::grpc::ServerContext* context, const v1::GetWorkflowRequest* request,
                             v1::GetWorkflowResponse* response) override;
  ::grpc::Status AdvanceStage(::grpc::ServerContext* context,
                              const v1::AdvanceStageRequest* request,
                              v1::AdvanceStageResponse* response) override;
  ::grpc::Status ListQueue(::grpc::ServerContext* context, const v1::ListQueueRequest* request,
                           v1::ListQueueResponse* response) override;
  ::grpc::Status GetTeam(::grpc::ServerContext* context, const v1::GetTeamRequest* request,
                         v1::GetTeamResponse* response) override;
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
};

}  // namespace flywheel::routing
