#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace google::protobuf {
class Message;
}

namespace flywheel {

/// Paging bounds of every List* RPC (the convention at the top of
/// proto/flywheel/common/v1/common.proto).
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;
/// How long a page token stays valid.
inline constexpr absl::Duration kPageTokenLifetime = absl::Hours(24);

/// The number of items a call asking for `page_size` gets: 0 is the default
/// (50), more than 500 is 500. A negative size is INVALID_ARGUMENT naming
/// `page_size`. Pure function.
absl::StatusOr<size_t> PageSizeOf(int32_t page_size);

/// A page token that resumes a listing after `cursor` (the service's own
/// position, e.g. the last item shown). Opaque to clients (web-safe base64),
/// bound to every field of `query` except `page_size` and `page_token` (so to
/// the tenant and the filters) and stamped with `now`. Pure function.
std::string EncodePageToken(const google::protobuf::Message& query, absl::Time now,
                            const std::string& cursor);

/// The cursor of `token`, issued by `EncodePageToken` for the same `query`
/// fields within `kPageTokenLifetime` of `now`. INVALID_ARGUMENT naming
/// `page_token` when it is malformed, was issued for other filters or has
/// expired. Pure function.
absl::StatusOr<std::string> DecodePageToken(const std::string& token,
                                            const google::protobuf::Message& query, absl::Time now);

}  // namespace flywheel
