#include "slot_store.h"

#include <algorithm>

#include "flywheel/core/proto_time.h"

namespace flywheel::scheduler {

bool Occupies(v1::SlotStatus status) {
  return status == v1::SLOT_STATUS_RESERVED || status == v1::SLOT_STATUS_DUE ||
         status == v1::SLOT_STATUS_PUBLISHED;
}

bool Covers(const v1::Blackout& blackout, absl::Time at, common::v1::Channel channel,
            const std::string& destination) {
  if (at < FromProtoTime(blackout.range().start_time()) ||
      at >= FromProtoTime(blackout.range().end_time())) {
    return false;
  }
  const auto& channels = blackout.channels();
  if (!channels.empty() && std::find(channels.begin(), channels.end(), channel) == channels.end()) {
    return false;
  }
  const auto& destinations = blackout.destinations();
  return destinations.empty() ||
         std::find(destinations.begin(), destinations.end(), destination) != destinations.end();
}

absl::Status CheckSlotIdentity(const v1::PublishingSlot& slot) {
  if (slot.tenant_id().empty()) return absl::InvalidArgumentError("tenant_id: empty");
  if (slot.slot_id().empty()) return absl::InvalidArgumentError("slot_id: empty");
  if (slot.destination().empty()) return absl::InvalidArgumentError("destination: empty");
  return absl::OkStatus();
}

absl::Status CheckBlackoutIdentity(const v1::Blackout& blackout) {
  if (blackout.tenant_id().empty()) return absl::InvalidArgumentError("tenant_id: empty");
  if (blackout.blackout_id().empty()) return absl::InvalidArgumentError("blackout_id: empty");
  if (FromProtoTime(blackout.range().end_time()) < FromProtoTime(blackout.range().start_time())) {
    return absl::InvalidArgumentError("range.end_time: before range.start_time");
  }
  return absl::OkStatus();
}

absl::Time ToSlotTime(absl::Time time) { return absl::FromUnixMillis(absl::ToUnixMillis(time)); }

absl::Time PublishTimeOf(const v1::PublishingSlot& slot) {
  return ToSlotTime(FromProtoTime(slot.publish_time()));
}

}  // namespace flywheel::scheduler
