#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "flywheel/reporting/v1/reporting_service.pb.h"

/// The numbers of reports, from the series members a query read. Pure
/// functions: no I/O, no clock. Times are milliseconds since the epoch;
/// ranges are half-open [from, to).
namespace flywheel::reporting {

namespace v1 = ::flywheel::reporting::v1;

/// A series' members with their scores, as read.
using Members = std::vector<std::pair<std::string, int64_t>>;

/// The operational series of a tenant: submissions and deliveries in the
/// range, approval decisions in the range, and the stage visits that
/// matter to it, scored by their enter time: those entered in it, those
/// that left it at or after its start, and those still open that were
/// entered before its end (so WIP at the end of any bucket, and visits that
/// ended inside, are all there, without the history before the range).
struct OperationalRows {
  Members submitted;
  Members delivered;
  Members visits;
  Members approvals;
};

/// The request dimensions a member starts with, in this order (facts.h).
enum Dimension { kTeam = 0, kRequestType = 1, kChannel = 2, kCampaign = 3, kTemplate = 4 };

/// The dimension a `group_by` names: "team", "request_type", "channel",
/// "campaign" or "template"; -1 for "" (no groups); INVALID_ARGUMENT naming
/// `field` for anything else.
absl::StatusOr<int> OperationalGroupBy(const std::string& group_by, std::string_view field);

/// Checks a report's range: both ends set, start not after end, at most
/// 366 days. INVALID_ARGUMENT naming `field` (and its end) otherwise.
absl::Status CheckRange(const common::v1::TimeRange& range, std::string_view field);

/// The buckets of [from, to) at `granularity`, clipped to it; empty for
/// GRANULARITY_UNSPECIFIED.
std::vector<std::pair<int64_t, int64_t>> Buckets(int64_t from, int64_t to,
                                                 v1::Granularity granularity);

/// The start (Monday 00:00 UTC) of the ISO week holding `ms`.
int64_t WeekStart(int64_t ms);

/// Count, mean and nearest-rank p50/p90 of `durations_ms`.
v1::DurationStats Stats(std::vector<int64_t> durations_ms);

/// The value of dimension `dimension` in a member: the raw field, or the
/// channel's enum name for kChannel ("" when unset).
std::string DimensionValue(absl::string_view member, int dimension);

/// Whether a member's dimension fields (facts.h) pass `filter`.
bool PassesFilter(const std::vector<absl::string_view>& fields, const v1::ReportFilter& filter);

/// Operational metrics of [from, to) over the members that pass `filter`
/// and, when `group_dimension` >= 0, whose value of it is `group`.
v1::OperationalMetrics Operational(const OperationalRows& rows, int64_t from, int64_t to,
                                   const v1::ReportFilter& filter, int group_dimension = -1,
                                   const std::string& group = "");

/// The whole GetOperationalMetrics answer: total, buckets and groups.
v1::GetOperationalMetricsResponse OperationalResponse(const OperationalRows& rows, int64_t from,
                                                      int64_t to, const v1::ReportFilter& filter,
                                                      v1::Granularity granularity,
                                                      int group_dimension);

/// A campaign outcome grouping: "" or "campaign", "channel", "source",
/// "campaign_channel"; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> OutcomeGroupBy(const std::string& group_by, std::string_view field);

/// The outcome series of a tenant over the range, and each lead's touches
/// up to the moments that credit them.
struct OutcomeRows {
  /// Touches in the range: lead, campaign, channel, source, activity id.
  Members touches;
  /// Leads that qualified in the range.
  Members qualified;
  /// Deals won in the range: lead, opportunity, campaign, channel,
  /// currency, amount in nanos.
  Members revenue;
  /// Spend lines of periods starting in the range: campaign, channel,
  /// currency, amount in nanos, spend id.
  Members spend;
  /// Each lead's touches (campaign, channel, source, activity id) in time
  /// order, for the leads that qualified or won in the range.
  std::map<std::string, Members> lead_touches;
};

v1::ListCampaignOutcomesResponse Outcomes(const OutcomeRows& rows, const std::string& group_by,
                                          v1::AttributionModel model, const std::string& currency);

/// One outcome row from its sums: conversion, cost per MQL (absent
/// without MQLs) and ROI (0 without spend) worked out from them.
v1::CampaignOutcome OutcomeOf(std::string key, int64_t leads, double mqls, double spend_nanos,
                              double revenue_nanos, const std::string& currency);

/// A money amount from nanos of a unit.
common::v1::Money MoneyOf(double nanos, const std::string& currency);

}  // namespace flywheel::reporting
