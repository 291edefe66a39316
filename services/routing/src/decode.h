#pragma once

#include <string>

#include "absl/status/status.h"
#include "flywheel/core/status.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/kafka/payload.h"

namespace flywheel::routing {

/// Decodes the payload of a consumed event about one request: OK, or
/// INVALID_ARGUMENT (dead-lettered) when it does not decode or names no
/// tenant or request. `what` names the event in the reason.
template <typename Payload>
absl::Status DecodeAddressed(const kafka::ConsumedEvent& consumed, const char* what,
                             Payload& payload) {
  FLYWHEEL_RETURN_IF_ERROR(kafka::DecodeData(consumed.event, payload));
  if (payload.tenant_id().empty() || payload.request_id().empty()) {
    return absl::InvalidArgumentError(std::string(what) + " without tenant_id or request_id");
  }
  return absl::OkStatus();
}

}  // namespace flywheel::routing
