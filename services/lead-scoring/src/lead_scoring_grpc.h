#pragma once

#include <string_view>

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/async.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/leadscoring/v1/leadscoring_service.grpc.pb.h"
#include "lead_scoring.h"

namespace flywheel::lead_scoring {

/// Which roles may call each LeadScoringService method.
const auth::RoleTable& LeadScoringRoles();

/// The gRPC edge, on gRPC's callback API: each call is admitted by `guard`
/// on the gRPC thread (token, role table, rate limits, the tenant the
/// request names must be the caller's), then runs as a coroutine of
/// `LeadScoring` on `io`. Destroy it only after the server serving it has
/// shut down and `io`'s threads have stopped.
class LeadScoringGrpc final : public v1::LeadScoringService::CallbackService {
 public:
  LeadScoringGrpc(LeadScoring& scoring, rpc::Guard& guard, asio::io_context& io)
      : scoring_(scoring), guard_(guard), calls_(io) {}

  ::grpc::ServerUnaryReactor* GetScore(::grpc::CallbackServerContext* context,
                                       const v1::GetScoreRequest* request,
                                       v1::GetScoreResponse* response) override;
  ::grpc::ServerUnaryReactor* ListLeads(::grpc::CallbackServerContext* context,
                                        const v1::ListLeadsRequest* request,
                                        v1::ListLeadsResponse* response) override;
  ::grpc::ServerUnaryReactor* GetAccountScore(::grpc::CallbackServerContext* context,
                                              const v1::GetAccountScoreRequest* request,
                                              v1::GetAccountScoreResponse* response) override;
  ::grpc::ServerUnaryReactor* Backtest(::grpc::CallbackServerContext* context,
                                       const v1::BacktestRequest* request,
                                       v1::BacktestResponse* response) override;

 private:
  // Admits the call for the tenant it names, then runs `method` on it.
  template <typename Request, typename Response>
  ::grpc::ServerUnaryReactor* Serve(
      ::grpc::CallbackServerContext* context, std::string_view name, const Request* request,
      Response* response,
      asio::awaitable<absl::StatusOr<Response>> (LeadScoring::*method)(const Request&)) {
    auto caller = guard_.AdmitFor(*context, name, request->tenant_id());
    if (!caller.ok()) return rpc::Refuse(context, response, caller.status());
    return calls_.Run(context, response, (scoring_.*method)(*request));
  }

  LeadScoring& scoring_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::lead_scoring
