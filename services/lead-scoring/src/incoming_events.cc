#include "incoming_events.h"

#include "absl/strings/str_cat.h"
#include "flywheel/core/status.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/payload.h"

namespace flywheel::lead_scoring {
absl::StatusOr<LeadEvent> IncomingEvents::Decode(const kafka::ConsumedEvent& consumed) const {
  const kafka::CloudEvent& event = consumed.event;
  if (event.data.size() > max_event_bytes_) {
    return absl::InvalidArgumentError(absl::StrCat("event data of ", event.data.size(),
                                                   " bytes; at most ", max_event_bytes_,
                                                   " are accepted"));
  }
  if (event.type == events::kLeadActivity) {
    v1::LeadActivity activity;
    FLYWHEEL_RETURN_IF_ERROR(kafka::DecodeData(event, activity));
    return LeadEvent(std::move(activity));
  }
  if (event.type == events::kLeadProfile) {
    v1::LeadProfile profile;
    FLYWHEEL_RETURN_IF_ERROR(kafka::DecodeData(event, profile));
    return LeadEvent(std::move(profile));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown event type \"", event.type,
                                                 "\"; lead scoring takes ", events::kLeadActivity,
                                                 " and ", events::kLeadProfile));
}

asio::awaitable<std::vector<absl::Status>> IncomingEvents::Batch(kafka::EventBatch batch) {
  std::vector<absl::Status> statuses(batch.events.size());
  std::vector<LeadEvent> decoded;
  std::vector<size_t> at;
  decoded.reserve(batch.events.size());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    absl::StatusOr<LeadEvent> event = Decode(batch.events[i]);
    if (!event.ok()) {
      statuses[i] = event.status();
      continue;
    }
    decoded.push_back(*std::move(event));
    at.push_back(i);
  }
  std::vector<absl::Status> applied = co_await scoring_.Apply(decoded);
  for (size_t k = 0; k < at.size(); ++k) statuses[at[k]] = std::move(applied[k]);
  co_return statuses;
}

}  // namespace flywheel::lead_scoring
