#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "flywheel/core/field_errors.h"

namespace flywheel::rpc {

/// The type URL prefix of an absl::Status payload that is a serialized
/// protobuf message of a contract (`type.googleapis.com/flywheel.scheduler.v1.
/// CheckSlotResponse`): `ToGrpcStatus` passes it on as a detail.
inline constexpr char kContractPayloadPrefix[] = "type.googleapis.com/";

/// The one mapping from our statuses to gRPC's, used by every handler at the
/// edge. Codes map one to one (a code outside the canonical set becomes
/// UNKNOWN); the message is kept. When `status` carries field violations
/// (`FieldViolationsOf`), the result also carries a `google.rpc.Status` with
/// one `google.rpc.BadRequest` detail listing every field, in the binary error
/// details that travel as the `grpc-status-details-bin` trailer. A retry
/// delay (`WithRetryDelay`, set by rate limits) travels the same way, as a
/// `google.rpc.RetryInfo` detail. Payloads under kContractPayloadPrefix
/// are added as details too, type URL and bytes as they are.
/// Pure function; any thread.
::grpc::Status ToGrpcStatus(const absl::Status& status);

/// The reverse, for clients and tests: code and message, plus the field
/// violations of a BadRequest detail so `FieldViolationsOf` sees them and a
/// RetryInfo's delay for `RetryDelayOf`.
/// Details that do not parse are ignored. Pure function; any thread.
absl::Status FromGrpcStatus(const ::grpc::Status& status);

/// Every field violation in the BadRequest details of `status`, in order;
/// empty when there are none or the details do not parse.
std::vector<FieldViolation> BadRequestFields(const ::grpc::Status& status);

/// The delay of a `google.rpc.RetryInfo` detail of `status`, if it has one.
std::optional<absl::Duration> RetryDelay(const ::grpc::Status& status);

}  // namespace flywheel::rpc
