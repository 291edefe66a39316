#include "flywheel/grpc/status.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "flywheel/core/retry_delay.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace flywheel::rpc {
namespace {

// absl and gRPC share the canonical code numbers 0..16.
constexpr int kMaxCanonicalCode = 16;

::grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  const int n = static_cast<int>(code);
  if (n < 0 || n > kMaxCanonicalCode) return ::grpc::StatusCode::UNKNOWN;
  return static_cast<::grpc::StatusCode>(n);
}

absl::StatusCode ToAbslCode(::grpc::StatusCode code) {
  const int n = static_cast<int>(code);
  if (n < 0 || n > kMaxCanonicalCode) return absl::StatusCode::kUnknown;
  return static_cast<absl::StatusCode>(n);
}

}  // namespace

::grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return ::grpc::Status::OK;
  const ::grpc::StatusCode code = ToGrpcCode(status.code());
  std::string message(status.message());
  const std::vector<FieldViolation> violations = FieldViolationsOf(status);
  const std::optional<absl::Duration> retry_delay = RetryDelayOf(status);
  // Payloads that are protobuf messages of a contract travel as they are.
  std::vector<google::protobuf::Any> messages;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& value) {
    if (!absl::StartsWith(type_url, kContractPayloadPrefix)) return;
    google::protobuf::Any& any = messages.emplace_back();
    any.set_type_url(std::string(type_url));
    any.set_value(std::string(value));
  });
  if (violations.empty() && !retry_delay && messages.empty()) return ::grpc::Status(code, message);

  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      google::rpc::BadRequest::FieldViolation* out = bad_request.add_field_violations();
      out->set_field(v.field);
      out->set_description(v.reason);
    }
    details.add_details()->PackFrom(bad_request);
  }
  if (retry_delay) {
    google::rpc::RetryInfo retry;
    const int64_t nanos = absl::ToInt64Nanoseconds(*retry_delay);
    retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
    details.add_details()->PackFrom(retry);
  }
  for (google::protobuf::Any& any : messages) *details.add_details() = std::move(any);
  return ::grpc::Status(code, message, details.SerializeAsString());
}

std::vector<FieldViolation> BadRequestFields(const ::grpc::Status& status) {
  std::vector<FieldViolation> out;
  if (status.error_details().empty()) return out;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return out;
  for (const google::protobuf::Any& any : details.details()) {
    if (!any.Is<google::rpc::BadRequest>()) continue;
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& v : bad_request.field_violations()) {
      out.push_back({v.field(), v.description()});
    }
  }
  return out;
}

std::optional<absl::Duration> RetryDelay(const ::grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (!any.Is<google::rpc::RetryInfo>() || !any.UnpackTo(&retry)) continue;
    return absl::Seconds(retry.retry_delay().seconds()) +
           absl::Nanoseconds(retry.retry_delay().nanos());
  }
  return std::nullopt;
}

absl::Status FromGrpcStatus(const ::grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(ToAbslCode(status.error_code()), status.error_message());
  if (std::optional<absl::Duration> delay = RetryDelay(status)) {
    out = WithRetryDelay(std::move(out), *delay);
  }
  const std::vector<FieldViolation> violations = BadRequestFields(status);
  if (violations.empty()) return out;
  // Let FieldErrors encode the payload so there is one encoding of it; keep
  // the server's own code and message.
  FieldErrors errors;
  for (const FieldViolation& v : violations) errors.Add(v.field, v.reason);
  if (auto payload = errors.ToStatus().GetPayload(kFieldViolationsPayload)) {
    out.SetPayload(kFieldViolationsPayload, *payload);
  }
  return out;
}

}  // namespace flywheel::rpc
