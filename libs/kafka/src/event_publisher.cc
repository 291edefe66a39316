#include "flywheel/kafka/event_publisher.h"

#include <condition_variable>
#include <mutex>

#include "flywheel/core/id.h"
#include "flywheel/core/status.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/producer.h"

namespace flywheel::kafka {

KafkaEventPublisher::KafkaEventPublisher(Producer& producer, std::string source, const Clock& clock)
    : producer_(producer), source_(std::move(source)), clock_(clock) {}

absl::StatusOr<std::vector<std::string>> EventPublisher::PublishAll(
    const std::vector<OutgoingEvent>& events) {
  std::vector<std::string> ids;
  for (const OutgoingEvent& event : events) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::string id, Publish(event));
    ids.push_back(std::move(id));
  }
  return ids;
}

absl::StatusOr<Record> KafkaEventPublisher::Envelope(const OutgoingEvent& outgoing,
                                                     std::string* id) const {
  CloudEvent event;
  event.id = outgoing.id.empty() ? NewRandomId("evt") : outgoing.id;
  event.source = source_;
  event.type = outgoing.type;
  event.time = outgoing.time ? *outgoing.time : clock_.Now();
  event.data_content_type = kProtobufContentType;
  event.subject = outgoing.subject;
  event.key = outgoing.key;
  event.data = outgoing.data;
  event.extensions = outgoing.extensions;
  *id = event.id;
  return EncodeBinary(event, outgoing.topic);
}

absl::StatusOr<std::string> KafkaEventPublisher::Publish(const OutgoingEvent& outgoing) {
  std::string id;
  FLYWHEEL_ASSIGN_OR_RETURN(Record record, Envelope(outgoing, &id));
  FLYWHEEL_RETURN_IF_ERROR(producer_.SendAndWait(std::move(record)).status());
  return id;
}

absl::StatusOr<std::vector<std::string>> KafkaEventPublisher::PublishAll(
    const std::vector<OutgoingEvent>& events) {
  std::vector<std::string> ids(events.size());
  std::vector<Record> records;
  for (size_t i = 0; i < events.size(); ++i) {
    FLYWHEEL_ASSIGN_OR_RETURN(Record record, Envelope(events[i], &ids[i]));
    records.push_back(std::move(record));
  }
  // Delivery callbacks run on the producer's thread; count them down here.
  std::mutex mu;
  std::condition_variable done;
  size_t pending = records.size();
  absl::Status first_error;
  for (Record& record : records) {
    producer_.Send(std::move(record), [&](const absl::Status& status, const Record&) {
      std::lock_guard lock(mu);
      if (!status.ok() && first_error.ok()) first_error = status;
      if (--pending == 0) done.notify_one();
    });
  }
  std::unique_lock lock(mu);
  done.wait(lock, [&] { return pending == 0; });
  if (!first_error.ok()) return first_error;
  return ids;
}

}  // namespace flywheel::kafka
