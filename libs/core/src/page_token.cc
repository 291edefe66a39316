#include "flywheel/core/page_token.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "flywheel/core/field_errors.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"

namespace flywheel {
namespace {

// A stable 64-bit FNV-1a hash of the query without its paging fields, so a
// token cannot be reused with another tenant or other filters.
std::string FilterFingerprint(const google::protobuf::Message& query) {
  std::unique_ptr<google::protobuf::Message> filters(query.New());
  filters->CopyFrom(query);
  const google::protobuf::Reflection* reflection = filters->GetReflection();
  for (const char* paging : {"page_size", "page_token"}) {
    if (const auto* field = filters->GetDescriptor()->FindFieldByName(paging)) {
      reflection->ClearField(filters.get(), field);
    }
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    filters->SerializeToCodedStream(&coded);
  }
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

absl::Status BadToken(std::string_view why) {
  FieldErrors errors;
  errors.Add("page_token", why);
  return errors.ToStatus();
}

}  // namespace

absl::StatusOr<size_t> PageSizeOf(int32_t page_size) {
  if (page_size < 0) {
    FieldErrors errors;
    errors.Add("page_size", "must not be negative");
    return errors.ToStatus();
  }
  if (page_size == 0) return static_cast<size_t>(kDefaultPageSize);
  return static_cast<size_t>(std::min<int32_t>(page_size, kMaxPageSize));
}

std::string EncodePageToken(const google::protobuf::Message& query, absl::Time now,
                            const std::string& cursor) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("1|", FilterFingerprint(query), "|", absl::ToUnixSeconds(now), "|", cursor));
}

absl::StatusOr<std::string> DecodePageToken(const std::string& token,
                                            const google::protobuf::Message& query,
                                            absl::Time now) {
  std::string text;
  if (!absl::WebSafeBase64Unescape(token, &text)) {
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

}  // namespace flywheel
