#include "flywheel/grpc/status.h"

#include <string>

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
  if (violations.empty()) return ::grpc::Status(code, message);

  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    google::rpc::BadRequest::FieldViolation* out = bad_request.add_field_violations();
    out->set_field(v.field);
    out->set_description(v.reason);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
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

absl::Status FromGrpcStatus(const ::grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(ToAbslCode(status.error_code()), status.error_message());
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
