#include "routing_grpc.h"

#include "flywheel/grpc/status.h"

namespace flywheel::routing {
namespace {

// Stores the value of `result` with `set` or returns its status, translated.
template <typename T, typename Set>
::grpc::Status Reply(absl::StatusOr<T> result, Set set) {
  if (!result.ok()) return rpc::ToGrpcStatus(result.status());
  set(*std::move(result));
  return ::grpc::Status::OK;
}

}  // namespace

::grpc::Status RoutingGrpc::GetWorkflow(::grpc::ServerContext*,
                                        const v1::GetWorkflowRequest* request,
                                        v1::GetWorkflowResponse* response) {
  return Reply(ops_.GetWorkflow(*request),
               [&](v1::WorkflowInstance w) { *response->mutable_workflow() = std::move(w); });
}

::grpc::Status RoutingGrpc::AdvanceStage(::grpc::ServerContext*,
                                         const v1::AdvanceStageRequest* request,
                                         v1::AdvanceStageResponse* response) {
  return Reply(ops_.AdvanceStage(*request),
               [&](v1::WorkflowInstance w) { *response->mutable_workflow() = std::move(w); });
}

::grpc::Status RoutingGrpc::ListQueue(::grpc::ServerContext*, const v1::ListQueueRequest* request,
                                      v1::ListQueueResponse* response) {
  return Reply(ops_.ListQueue(*request),
               [&](v1::ListQueueResponse r) { *response = std::move(r); });
}

::grpc::Status RoutingGrpc::GetTeam(::grpc::ServerContext*, const v1::GetTeamRequest* request,
                                    v1::GetTeamResponse* response) {
  return Reply(ops_.GetTeam(request->tenant_id(), request->team_id()),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::JoinTeam(::grpc::ServerContext*, const v1::JoinTeamRequest* request,
                                     v1::JoinTeamResponse* response) {
  return Reply(ops_.JoinTeam(*request),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::LeaveTeam(::grpc::ServerContext*, const v1::LeaveTeamRequest* request,
                                      v1::LeaveTeamResponse* response) {
  return Reply(ops_.LeaveTeam(*request),
               [&](v1::LeaveTeamResponse r) { *response = std::move(r); });
}

::grpc::Status RoutingGrpc::UpdateMember(::grpc::ServerContext*,
                                         const v1::UpdateMemberRequest* request,
                                         v1::UpdateMemberResponse* response) {
  return Reply(ops_.UpdateMember(*request),
               [&](v1::Team t) { *response->mutable_team() = std::move(t); });
}

::grpc::Status RoutingGrpc::GetTeamCapacity(::grpc::ServerContext*,
                                            const v1::GetTeamCapacityRequest* request,
                                            v1::GetTeamCapacityResponse* response) {
  return Reply(ops_.GetTeamCapacity(*request),
               [&](v1::GetTeamCapacityResponse r) { *response = std::move(r); });
}

}  // namespace flywheel::routing
