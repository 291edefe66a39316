#include "request_listing.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace flywheel::intake {
namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// A stable 64-bit FNV-1a hash of the query's filters and tenant, so a token
// cannot be reused with other filters.
std::string FilterFingerprint(const v1::ListRequestsRequest& query) {
  v1::ListRequestsRequest filters = query;
  filters.clear_page_size();
  filters.clear_page_token();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    filters.SerializeToCodedStream(&coded);
  }
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

std::string EncodeToken(const v1::ListRequestsRequest& query, absl::Time now,
                        const std::string& after) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("1|", FilterFingerprint(query), "|", absl::ToUnixSeconds(now), "|", after));
}

absl::Status BadToken(const std::string& why) {
  FieldErrors errors;
  errors.Add("page_token", why);
  return errors.ToStatus();
}

// The index member the token resumes after.
absl::StatusOr<std::string> DecodeToken(const v1::ListRequestsRequest& query, absl::Time now) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(query.page_token(), &text)) {
    return BadToken("is not a token this service issued");
  }
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('|', 3));
  int64_t issued = 0;
  if (parts.size() != 4 || parts[0] != "1" || !absl::SimpleAtoi(parts[2], &issued) ||
      parts[3].empty()) {
    return BadToken("is not a token this service issued");
  }
  if (parts[1] != FilterFingerprint(query)) {
    return BadToken("was issued for other filters; start again without a token");
  }
  if (now - absl::FromUnixSeconds(issued) > kPageTokenLifetime) {
    return BadToken("has expired; start again without a token");
  }
  return parts[3];
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

absl::StatusOr<v1::ListRequestsResponse> ListRequests(RequestStore& store,
                                                      const v1::ListRequestsRequest& query,
                                                      absl::Time now, size_t scan_budget) {
  if (query.page_size() < 0) {
    FieldErrors errors;
    errors.Add("page_size", "must not be negative");
    return errors.ToStatus();
  }
  const size_t page_size = query.page_size() == 0
                               ? kDefaultPageSize
                               : static_cast<size_t>(std::min(query.page_size(), kMaxPageSize));
  std::string after;
  if (!query.page_token().empty()) {
    FLYWHEEL_ASSIGN_OR_RETURN(after, DecodeToken(query, now));
  }

  v1::ListRequestsResponse response;
  std::string last_scanned;
  std::string last_returned;
  size_t scanned = 0;
  const size_t batch = std::max<size_t>(page_size + 1, 100);
  while (scanned < scan_budget) {
    const size_t want = std::min(batch, scan_budget - scanned);
    FLYWHEEL_ASSIGN_OR_RETURN(std::vector<v1::Request> found,
                              store.Scan(query.tenant_id(), after, want));
    for (v1::Request& request : found) {
      ++scanned;
      last_scanned = IndexMember(request);
      if (!MatchesFilter(request, query)) continue;
      if (static_cast<size_t>(response.requests_size()) == page_size) {
        // One match beyond the page: there is more, resume after the last one shown.
        response.set_next_page_token(EncodeToken(query, now, last_returned));
        return response;
      }
      last_returned = last_scanned;
      *response.add_requests() = std::move(request);
    }
    if (found.size() < want) return response;  // The index is exhausted.
    after = last_scanned;
  }
  // Budget spent: resume where the scan stopped, even with a short page.
  response.set_next_page_token(EncodeToken(query, now, last_scanned));
  return response;
}

}  // namespace flywheel::intake
