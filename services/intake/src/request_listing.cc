#include "request_listing.h"

#include <algorithm>

#include "flywheel/core/page_token.h"
#include "flywheel/core/status.h"

namespace flywheel::intake {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

bool MatchesFilter(const v1::Request& request, const v1::ListRequestsRequest& query) {
  if (!query.statuses().empty() && std::find(query.statuses().begin(), query.statuses().end(),
                                             request.status()) == query.statuses().end()) {
    return false;
  }
  if (!query.request_type_ids().empty() &&
      std::find(query.request_type_ids().begin(), query.request_type_ids().end(),
                request.spec().request_type_id()) == query.request_type_ids().end()) {
    return false;
  }
  if (!query.requester_user_id().empty() &&
      request.spec().requester().user_id() != query.requester_user_id()) {
    return false;
  }
  if (!query.campaign_id().empty() && request.spec().campaign_id() != query.campaign_id()) {
    return false;
  }
  if (query.has_create_time_range()) {
    const absl::Time created = ToTime(request.create_time());
    const auto& range = query.create_time_range();
    if (range.has_start_time() && created < ToTime(range.start_time())) return false;
    if (range.has_end_time() && created >= ToTime(range.end_time())) return false;
  }
  return true;
}

asio::awaitable<absl::StatusOr<v1::ListRequestsResponse>> ListRequests(
    RequestStore& store, const v1::ListRequestsRequest& query, absl::Time now, size_t scan_budget) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(const size_t page_size, PageSizeOf(query.page_size()));
  std::string after;
  if (!query.page_token().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(after, DecodePageToken(query.page_token(), query, now));
  }

  v1::ListRequestsResponse response;
  std::string last_scanned;
  std::string last_returned;
  size_t scanned = 0;
  const size_t batch = std::max<size_t>(page_size + 1, 100);
  while (scanned < scan_budget) {
    const size_t want = std::min(batch, scan_budget - scanned);
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Request> found,
                                 co_await store.Scan(query.tenant_id(), after, want));
    for (v1::Request& request : found) {
      ++scanned;
      last_scanned = IndexMember(request);
      if (!MatchesFilter(request, query)) continue;
      if (static_cast<size_t>(response.requests_size()) == page_size) {
        // One match beyond the page: there is more, resume after the last one shown.
        response.set_next_page_token(EncodePageToken(query, now, last_returned));
        co_return response;
      }
      last_returned = last_scanned;
      *response.add_requests() = std::move(request);
    }
    if (found.size() < want) co_return response;  // The index is exhausted.
    after = last_scanned;
  }
  // Budget spent: resume where the scan stopped, even with a short page.
  response.set_next_page_token(EncodePageToken(query, now, last_scanned));
  co_return response;
}

}  // namespace flywheel::intake
