#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "flywheel/core/deleter.h"
#include "flywheel/kafka/record.h"

namespace flywheel::kafka {

using KafkaHandle = std::unique_ptr<rd_kafka_t, Deleter<rd_kafka_destroy>>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, Deleter<rd_kafka_conf_destroy>>;
using TopicPartitionListHandle = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                                 Deleter<rd_kafka_topic_partition_list_destroy>>;
using MessageHandle = std::unique_ptr<rd_kafka_message_t, Deleter<rd_kafka_message_destroy>>;

/// Builds a librdkafka configuration from `properties`; the first property
/// librdkafka refuses becomes INVALID_ARGUMENT naming it.
absl::Status SetProperties(rd_kafka_conf_t* conf,
                           const std::map<std::string, std::string>& properties);

/// The status payload that marks a record refused for its size.
inline constexpr char kRecordTooLargePayload[] = "type.flywheel.dev/kafka.record-too-large";

/// Maps a librdkafka error to a status code: transient broker and transport
/// errors are UNAVAILABLE, timeouts DEADLINE_EXCEEDED, a record too large
/// INVALID_ARGUMENT marked so `IsRecordTooLarge` tells it apart, the rest
/// INTERNAL.
absl::Status StatusFromKafkaError(rd_kafka_resp_err_t err, const std::string& context);

/// Sends librdkafka's own log lines through flywheel::log as JSON instead of
/// its default stderr format.
void RouteLogs(rd_kafka_conf_t* conf);

/// Copies a librdkafka message (topic, partition, offset, key, value,
/// timestamp, headers) into a Record the project's code can keep.
Record RecordFromMessage(const rd_kafka_message_t& msg);

}  // namespace flywheel::kafka
