#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/scheduler/v1/scheduler_service.pb.h"

namespace flywheel::scheduler::testing {

/// acme's request to reserve an organic social slot for `request` at `at`
/// on `destination`.
inline v1::ReserveSlotRequest SlotFor(const std::string& request, absl::Time at,
                                      const std::string& destination) {
  v1::ReserveSlotRequest reserve;
  v1::PublishingSlot& slot = *reserve.mutable_slot();
  slot.set_tenant_id("acme");
  slot.set_request_id(request);
  slot.set_channel(common::v1::CHANNEL_SOCIAL_ORGANIC);
  slot.set_destination(destination);
  *slot.mutable_publish_time() = ToProtoTime(at);
  return reserve;
}

/// approval.completed as approval publishes it when acme's `request` is
/// approved with asset `version` (0: none named).
inline kafka::CloudEvent ApprovedEvent(const std::string& request, uint32_t version = 0) {
  approval::v1::ApprovalCompleted approved;
  approved.set_tenant_id("acme");
  approved.set_request_id(request);
  approved.set_outcome(approval::v1::CHAIN_STATUS_APPROVED);
  approved.set_version(version);
  return {.id = "evt_approval_" + request,
          .source = "//tests/approval",
          .type = events::kApprovalCompleted,
          .data_content_type = kafka::kProtobufContentType,
          .key = request,
          .data = approved.SerializeAsString()};
}

}  // namespace flywheel::scheduler::testing
