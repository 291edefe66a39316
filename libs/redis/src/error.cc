#include "flywheel/redis/error.h"

#include <array>

#include "absl/strings/cord.h"

namespace flywheel::redis {

absl::Status ServerErrorToStatus(std::string_view message) {
  if (message.empty()) message = "ERR (empty error reply)";
  std::string_view code = message.substr(0, message.find(' '));
  absl::StatusCode status_code = absl::StatusCode::kFailedPrecondition;
  constexpr std::array<std::string_view, 3> kDenied = {"NOAUTH", "WRONGPASS", "NOPERM"};
  constexpr std::array<std::string_view, 6> kTransient = {"LOADING",    "BUSY",        "TRYAGAIN",
                                                          "MASTERDOWN", "CLUSTERDOWN", "READONLY"};
  for (std::string_view c : kDenied) {
    if (code == c) status_code = absl::StatusCode::kPermissionDenied;
  }
  for (std::string_view c : kTransient) {
    if (code == c) status_code = absl::StatusCode::kUnavailable;
  }
  if (code == "OOM") status_code = absl::StatusCode::kResourceExhausted;
  absl::Status status(status_code, absl::string_view(message.data(), message.size()));
  status.SetPayload(kServerErrorPayload, absl::Cord(absl::string_view(code.data(), code.size())));
  return status;
}

std::string ServerErrorCode(const absl::Status& status) {
  auto payload = status.GetPayload(kServerErrorPayload);
  if (!payload.has_value()) return "";
  return std::string(*payload);
}

}  // namespace flywheel::redis
