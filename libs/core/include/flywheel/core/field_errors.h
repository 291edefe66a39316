#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace flywheel {

/// One failing field of an input: the field's path (`brief.due_date`) and
/// why it failed, in words a client can show to a person.
struct FieldViolation {
  std::string field;
  std::string reason;

  bool operator==(const FieldViolation&) const = default;
};

/// Collects every failing field of one input so a caller learns about all of
/// them at once, then turns them into one `INVALID_ARGUMENT` status whose
/// payload carries the list (read back with `FieldViolationsOf`).
class FieldErrors {
 public:
  void Add(std::string_view field, std::string_view reason);
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  /// OK when nothing was added; otherwise INVALID_ARGUMENT naming every field.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

/// The type URL under which the violations ride in an absl::Status payload.
inline constexpr char kFieldViolationsPayload[] = "type.flywheel.dev/flywheel.core.FieldViolations";

/// The violations a status carries; empty for a status made any other way.
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

}  // namespace flywheel
