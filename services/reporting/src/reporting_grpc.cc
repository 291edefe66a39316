#include "reporting_grpc.h"

namespace flywheel::reporting {

using auth::Role;

// Reports are for everyone who works the requests of their tenant.
const auth::RoleTable& ReportingRoles() {
  static const auth::RoleTable table(
      "flywheel.reporting.v1.ReportingService",
      {
          {"GetOperationalMetrics",
           {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ListCampaignOutcomes",
           {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"GetWorkResults", {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"GetRequestTimeline",
           {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ExportReport", {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"RenderWeeklyReport",
           {Role::kRequester, Role::kCreator, Role::kOpsAdmin, Role::kService}},
      });
  return table;
}

// Admission runs on the gRPC thread (no I/O); `request` lives until the
// call is finished.

::grpc::ServerUnaryReactor* ReportingGrpc::GetOperationalMetrics(
    ::grpc::CallbackServerContext* context, const v1::GetOperationalMetricsRequest* request,
    v1::GetOperationalMetricsResponse* response) {
  return Admit(context, "GetOperationalMetrics", request, response,
               &Reporting::GetOperationalMetrics);
}

::grpc::ServerUnaryReactor* ReportingGrpc::ListCampaignOutcomes(
    ::grpc::CallbackServerContext* context, const v1::ListCampaignOutcomesRequest* request,
    v1::ListCampaignOutcomesResponse* response) {
  return Admit(context, "ListCampaignOutcomes", request, response,
               &Reporting::ListCampaignOutcomes);
}

::grpc::ServerUnaryReactor* ReportingGrpc::GetWorkResults(::grpc::CallbackServerContext* context,
                                                          const v1::GetWorkResultsRequest* request,
                                                          v1::GetWorkResultsResponse* response) {
  return Admit(context, "GetWorkResults", request, response, &Reporting::GetWorkResults);
}

::grpc::ServerUnaryReactor* ReportingGrpc::GetRequestTimeline(
    ::grpc::CallbackServerContext* context, const v1::GetRequestTimelineRequest* request,
    v1::GetRequestTimelineResponse* response) {
  return Admit(context, "GetRequestTimeline", request, response, &Reporting::GetRequestTimeline);
}

::grpc::ServerUnaryReactor* ReportingGrpc::ExportReport(::grpc::CallbackServerContext* context,
                                                        const v1::ExportReportRequest* request,
                                                        v1::ExportReportResponse* response) {
  return Admit(context, "ExportReport", request, response, &Reporting::ExportReport);
}

::grpc::ServerUnaryReactor* ReportingGrpc::RenderWeeklyReport(
    ::grpc::CallbackServerContext* context, const v1::RenderWeeklyReportRequest* request,
    v1::RenderWeeklyReportResponse* response) {
  return Admit(context, "RenderWeeklyReport", request, response, &Reporting::RenderWeeklyReport);
}

}  // namespace flywheel::reporting
