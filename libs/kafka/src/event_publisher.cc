#include "flywheel/kafka/event_publisher.h"

#include <future>
#include <memory>
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

void EventPublisher::PublishAsync(std::vector<OutgoingEvent> events, PublishDone done) {
  done(PublishAll(events));
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
  std::promise<absl::StatusOr<std::vector<std::string>>> outcome;
  std::future<absl::StatusOr<std::vector<std::string>>> ready = outcome.get_future();
  PublishAsync(events, [&outcome](absl::StatusOr<std::vector<std::string>> ids) {
    outcome.set_value(std::move(ids));
  });
  return ready.get();
}

void KafkaEventPublisher::PublishAsync(std::vector<OutgoingEvent> events, PublishDone done) {
  // What the delivery callbacks count down, on the producer's thread.
  struct Pending {
    std::mutex mu;
    size_t left = 0;
    absl::Status first_error;
    std::vector<std::string> ids;
    PublishDone done;
  };
  auto pending = std::make_shared<Pending>();
  pending->ids.resize(events.size());
  std::vector<Record> records;
  records.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    absl::StatusOr<Record> record = Envelope(events[i], &pending->ids[i]);
    if (!record.ok()) {
      done(record.status());
      return;
    }
    records.push_back(*std::move(record));
  }
  if (records.empty()) {
    done(std::vector<std::string>{});
    return;
  }
  pending->left = records.size();
  pending->done = std::move(done);
  for (Record& record : records) {
    producer_.Send(std::move(record), [pending](const absl::Status& status, const Record&) {
      PublishDone finish;
      {
        std::lock_guard lock(pending->mu);
        if (!status.ok() && pending->first_error.ok()) pending->first_error = status;
        if (--pending->left > 0) return;
        finish = std::move(pending->done);
      }
      if (pending->first_error.ok()) {
        finish(std::move(pending->ids));
      } else {
        finish(pending->first_error);
      }
    });
  }
}

}  // namespace flywheel::kafka
