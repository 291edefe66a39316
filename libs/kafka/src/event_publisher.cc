#include "flywheel/kafka/event_publisher.h"

#include "flywheel/core/id.h"
#include "flywheel/core/status.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"

namespace flywheel::kafka {

KafkaEventPublisher::KafkaEventPublisher(Producer& producer, std::string source, const Clock& clock)
    : producer_(producer), source_(std::move(source)), clock_(clock) {}

absl::StatusOr<std::string> KafkaEventPublisher::Publish(const OutgoingEvent& outgoing) {
  CloudEvent event;
  event.id = outgoing.id.empty() ? NewRandomId("evt") : outgoing.id;
  event.source = source_;
  event.type = outgoing.type;
  event.time = clock_.Now();
  event.data_content_type = kProtobufContentType;
  event.subject = outgoing.subject;
  event.key = outgoing.key;
  event.data = outgoing.data;
  event.extensions = outgoing.extensions;
  FLYWHEEL_ASSIGN_OR_RETURN(Record record, EncodeBinary(event, outgoing.topic));
  FLYWHEEL_RETURN_IF_ERROR(producer_.SendAndWait(std::move(record)).status());
  return event.id;
}

}  // namespace flywheel::kafka
