#pragma once

#include <string_view>

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/async.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/reporting/v1/reporting_service.grpc.pb.h"
#include "reporting.h"

namespace flywheel::reporting {

/// Which roles may call each ReportingService method.
const auth::RoleTable& ReportingRoles();

/// The gRPC edge, on gRPC's callback API: each call is admitted by `guard`
/// on the gRPC thread (token, role table, rate limits, the tenant the
/// request names must be the caller's), then runs as a coroutine of
/// `Reporting` on `io`. Destroy it only after the server serving it has
/// shut down and `io`'s threads have stopped.
class ReportingGrpc final : public v1::ReportingService::CallbackService {
 public:
  ReportingGrpc(Reporting& reporting, rpc::Guard& guard, asio::io_context& io)
      : reporting_(reporting), guard_(guard), calls_(io) {}

  ::grpc::ServerUnaryReactor* GetOperationalMetrics(
      ::grpc::CallbackServerContext* context, const v1::GetOperationalMetricsRequest* request,
      v1::GetOperationalMetricsResponse* response) override;
  ::grpc::ServerUnaryReactor* ListCampaignOutcomes(
      ::grpc::CallbackServerContext* context, const v1::ListCampaignOutcomesRequest* request,
      v1::ListCampaignOutcomesResponse* response) override;
  ::grpc::ServerUnaryReactor* GetWorkResults(::grpc::CallbackServerContext* context,
                                             const v1::GetWorkResultsRequest* request,
                                             v1::GetWorkResultsResponse* response) override;
  ::grpc::ServerUnaryReactor* GetRequestTimeline(::grpc::CallbackServerContext* context,
                                                 const v1::GetRequestTimelineRequest* request,
                                                 v1::GetRequestTimelineResponse* response) override;
  ::grpc::ServerUnaryReactor* ExportReport(::grpc::CallbackServerContext* context,
                                           const v1::ExportReportRequest* request,
                                           v1::ExportReportResponse* response) override;
  ::grpc::ServerUnaryReactor* RenderWeeklyReport(::grpc::CallbackServerContext* context,
                                                 const v1::RenderWeeklyReportRequest* request,
                                                 v1::RenderWeeklyReportResponse* response) override;

 private:
  // Admits the call for the tenant it names, then runs `method` on it.
  template <typename Request, typename Response>
  ::grpc::ServerUnaryReactor* Admit(
      ::grpc::CallbackServerContext* context, std::string_view name, const Request* request,
      Response* response,
      asio::awaitable<absl::StatusOr<Response>> (Reporting::*method)(const Request&)) {
    auto caller = guard_.AdmitFor(*context, name, request->tenant_id());
    if (!caller.ok()) return rpc::Refuse(context, response, caller.status());
    return calls_.Run(context, response, (reporting_.*method)(*request));
  }

  Reporting& reporting_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::reporting
