#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "aggregates.h"
#include "flywheel/reporting/v1/reporting_service.pb.h"

/// The work joined to its results: what a request type's, template's or
/// channel's delivered work cost in time beside what its campaigns
/// produced. Pure functions, like aggregates.h.
namespace flywheel::reporting {

/// The work dimension a `group_by` names: "request_type" (also for ""),
/// "template" or "channel"; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<int> WorkGroupBy(const std::string& group_by, std::string_view field);

/// Joins the requests delivered in [from, to) (`delivered`, as read) to
/// the outcomes of their campaigns over the same range (`by_campaign`:
/// `Outcomes` grouped by campaign, in `currency`). Each campaign's outcomes
/// are shared equally among all its requests delivered in the range; a
/// group that passes `filter` gets its requests' shares. Outcomes of
/// campaigns without delivered work, and of activity without a campaign,
/// go to `without_work`.
v1::GetWorkResultsResponse WorkResults(const Members& delivered, int64_t from, int64_t to,
                                       const v1::ReportFilter& filter, int group_dimension,
                                       const v1::ListCampaignOutcomesResponse& by_campaign,
                                       const std::string& currency);

}  // namespace flywheel::reporting
