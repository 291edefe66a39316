#include "rdkafka_handles.h"

#include "absl/strings/cord.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/log/log.h"

namespace flywheel::kafka {

absl::Status SetProperties(rd_kafka_conf_t* conf,
                           const std::map<std::string, std::string>& properties) {
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError("kafka property " + name + ": " + error);
    }
  }
  return absl::OkStatus();
}

absl::Status StatusFromKafkaError(rd_kafka_resp_err_t err, const std::string& context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string message = context + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(message);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
      return absl::UnavailableError(message);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: {
      absl::Status status = absl::InvalidArgumentError(message);
      status.SetPayload(kRecordTooLargePayload, absl::Cord("1"));
      return status;
    }
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::InvalidArgumentError(message);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::NotFoundError(message);
    default:
      return absl::InternalError(message);
  }
}

bool IsRecordTooLarge(const absl::Status& status) {
  return status.GetPayload(kRecordTooLargePayload).has_value();
}

void RouteLogs(rd_kafka_conf_t* conf) {
  // Runs on librdkafka's internal threads; flywheel::log is thread-safe.
  rd_kafka_conf_set_log_cb(
      conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* message) {
        // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
        const log::Level mapped = level <= 3   ? log::Level::kError
                                  : level == 4 ? log::Level::kWarn
                                  : level <= 6 ? log::Level::kInfo
                                               : log::Level::kDebug;
        log::Write(
            mapped, message,
            {{"component", "librdkafka"}, {"client", rd_kafka_name(rk)}, {"facility", facility}});
      });
}

Record RecordFromMessage(const rd_kafka_message_t& msg) {
  Record record;
  record.topic = msg.rkt ? rd_kafka_topic_name(msg.rkt) : "";
  record.partition = msg.partition;
  record.offset = msg.offset;
  if (msg.key) record.key.assign(static_cast<const char*>(msg.key), msg.key_len);
  if (msg.payload) record.value.assign(static_cast<const char*>(msg.payload), msg.len);
  rd_kafka_timestamp_type_t timestamp_type;
  if (const int64_t millis = rd_kafka_message_timestamp(&msg, &timestamp_type); millis >= 0) {
    record.timestamp = absl::FromUnixMillis(millis);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers.push_back(
          {name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
    }
  }
  return record;
}

}  // namespace flywheel::kafka
