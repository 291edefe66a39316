#pragma once

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/intake/v1/intake_service.pb.h"
#include "request_store.h"

namespace flywheel::intake {

/// How many stored requests one ListRequests call looks at, at most. A
/// filter that matches few requests may return a short (even empty) page
/// with a next_page_token; the caller keeps paging.
inline constexpr size_t kListScanBudget = 5000;

/// Whether `request` passes every filter of `query` (tenant aside).
bool MatchesFilter(const v1::Request& request, const v1::ListRequestsRequest& query);

/// One page of the tenant's requests, newest first, filtered. The page token
/// (flywheel/core/page_token.h) is opaque, bound to the tenant and the
/// filters, and expires after 24 hours: a token used with other filters, expired or
/// malformed is INVALID_ARGUMENT on `page_token`; a negative page size is
/// INVALID_ARGUMENT on `page_size`. The tenant must already be checked.
asio::awaitable<absl::StatusOr<v1::ListRequestsResponse>> ListRequests(
    RequestStore& store, const v1::ListRequestsRequest& query, absl::Time now,
    size_t scan_budget = kListScanBudget);

}  // namespace flywheel::intake
