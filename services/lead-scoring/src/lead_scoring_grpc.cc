#include "lead_scoring_grpc.h"

namespace flywheel::lead_scoring {

using auth::Role;

// Scores are marketing's and sales' to read; a backtest is marketing ops'.
// Every caller acts only for its token's tenant.
const auth::RoleTable& LeadScoringRoles() {
  static const auth::RoleTable table(
      "flywheel.leadscoring.v1.LeadScoringService",
      {
          {"GetScore", {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ListLeads", {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"GetAccountScore", {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"Backtest", {Role::kOpsAdmin}},
      });
  return table;
}

// Admission runs on the gRPC thread (no I/O); `request` lives until the
// call is finished.

::grpc::ServerUnaryReactor* LeadScoringGrpc::GetScore(::grpc::CallbackServerContext* context,
                                                      const v1::GetScoreRequest* request,
                                                      v1::GetScoreResponse* response) {
  return Serve(context, "GetScore", request, response, &LeadScoring::GetScore);
}

::grpc::ServerUnaryReactor* LeadScoringGrpc::ListLeads(::grpc::CallbackServerContext* context,
                                                       const v1::ListLeadsRequest* request,
                                                       v1::ListLeadsResponse* response) {
  return Serve(context, "ListLeads", request, response, &LeadScoring::ListLeads);
}

::grpc::ServerUnaryReactor* LeadScoringGrpc::GetAccountScore(
    ::grpc::CallbackServerContext* context, const v1::GetAccountScoreRequest* request,
    v1::GetAccountScoreResponse* response) {
  return Serve(context, "GetAccountScore", request, response, &LeadScoring::GetAccountScore);
}

::grpc::ServerUnaryReactor* LeadScoringGrpc::Backtest(::grpc::CallbackServerContext* context,
                                                      const v1::BacktestRequest* request,
                                                      v1::BacktestResponse* response) {
  return Serve(context, "Backtest", request, response, &LeadScoring::Backtest);
}

}  // namespace flywheel::lead_scoring
