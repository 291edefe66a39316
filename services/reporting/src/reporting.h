#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregates.h"
#include "flywheel/core/clock.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/reporting/v1/reporting_service.pb.h"
#include "redis_report_store.h"
#include "reporting_metrics.h"

namespace flywheel::reporting {

/// Reporting's logic: every event of the workflow and lead topics folded
/// into Redis (request facts and the series derived from them, lead
/// touches, qualifications, deals and spend), and the queries over them.
/// Coroutines on the store's io context; thread-safe.
///
/// `Handle` returns what a consumer handler returns: OK once applied, for a
/// duplicate, and for a type reporting does not know (counted in
/// `flywheel_reporting_unknown_events_total` and skipped); INVALID_ARGUMENT
/// for data that does not decode (dead-lettered); UNAVAILABLE or ABORTED
/// to be retried.
class Reporting {
 public:
  Reporting(RedisReportStore& store, ReportingMetrics& metrics, const Clock& clock)
      : store_(store), metrics_(metrics), clock_(clock) {}

  asio::awaitable<absl::Status> Handle(const kafka::ConsumedEvent& consumed);

  asio::awaitable<absl::StatusOr<v1::GetOperationalMetricsResponse>> GetOperationalMetrics(
      const v1::GetOperationalMetricsRequest& request);
  asio::awaitable<absl::StatusOr<v1::ListCampaignOutcomesResponse>> ListCampaignOutcomes(
      const v1::ListCampaignOutcomesRequest& request);
  asio::awaitable<absl::StatusOr<v1::GetWorkResultsResponse>> GetWorkResults(
      const v1::GetWorkResultsRequest& request);
  asio::awaitable<absl::StatusOr<v1::GetRequestTimelineResponse>> GetRequestTimeline(
      const v1::GetRequestTimelineRequest& request);
  asio::awaitable<absl::StatusOr<v1::ExportReportResponse>> ExportReport(
      const v1::ExportReportRequest& request);
  asio::awaitable<absl::StatusOr<v1::RenderWeeklyReportResponse>> RenderWeeklyReport(
      const v1::RenderWeeklyReportRequest& request);

 private:
  using Merge = std::function<void(stored::RequestFacts&)>;
  // Reads the request's facts, merges, and writes them with their series
  // entries when they changed; retried a few times when the request moved
  // meanwhile.
  asio::awaitable<absl::Status> ApplyToRequest(std::string kind, std::string tenant,
                                               std::string request, Merge merge);
  asio::awaitable<absl::Status> HandleLeadEvent(const kafka::ConsumedEvent& consumed,
                                                const std::string& kind);
  void CountBusiness(const stored::RequestFacts& facts, const std::vector<SeriesEntry>& before,
                     const std::vector<SeriesEntry>& after);

  asio::awaitable<absl::StatusOr<OperationalRows>> ReadOperational(std::string tenant, int64_t from,
                                                                   int64_t to);
  asio::awaitable<absl::StatusOr<OutcomeRows>> ReadOutcomes(std::string tenant, int64_t from,
                                                            int64_t to);
  asio::awaitable<absl::StatusOr<v1::ListCampaignOutcomesResponse>> Outcomes(
      std::string tenant, int64_t from, int64_t to, std::string group_by,
      v1::AttributionModel model, std::string currency);

  asio::awaitable<absl::StatusOr<v1::GetWorkResultsResponse>> WorkResultsOf(
      std::string tenant, int64_t from, int64_t to, v1::ReportFilter filter, int group,
      v1::AttributionModel model, std::string currency);

  RedisReportStore& store_;
  ReportingMetrics& metrics_;
  const Clock& clock_;
};

}  // namespace flywheel::reporting
