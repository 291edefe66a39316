#include "flywheel/core/field_errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace flywheel {
namespace {

// Payload encoding: one "field\treason" line per violation. Fields are paths
// and reasons are our own sentences, so neither holds a tab or a newline;
// both are replaced defensively all the same.
std::string Clean(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

void FieldErrors::Add(std::string_view field, std::string_view reason) {
  violations_.push_back({Clean(field), Clean(reason)});
}

absl::Status FieldErrors::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  std::string payload;
  for (const auto& v : violations_) {
    parts.push_back(v.field + ": " + v.reason);
    payload += v.field + "\t" + v.reason + "\n";
  }
  absl::Status status = absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
  status.SetPayload(kFieldViolationsPayload, absl::Cord(payload));
  return status;
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kFieldViolationsPayload);
  if (!payload) return out;
  for (absl::string_view line : absl::StrSplit(std::string(*payload), '\n', absl::SkipEmpty())) {
    const size_t tab = line.find('\t');
    if (tab == absl::string_view::npos) continue;
    out.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  return out;
}

}  // namespace flywheel
