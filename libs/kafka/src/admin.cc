#include "flywheel/kafka/admin.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flywheel/core/status.h"
#include "rdkafka_handles.h"

namespace flywheel::kafka {
namespace {

using NewTopicHandle = std::unique_ptr<rd_kafka_NewTopic_t, Deleter<rd_kafka_NewTopic_destroy>>;
using QueueHandle = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_destroy>>;
using EventHandle = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_destroy>>;
using AdminOptionsHandle =
    std::unique_ptr<rd_kafka_AdminOptions_t, Deleter<rd_kafka_AdminOptions_destroy>>;

}  // namespace

namespace {

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type,
                                      const std::map<std::string, std::string>& properties) {
  ConfHandle conf(rd_kafka_conf_new());
  FLYWHEEL_RETURN_IF_ERROR(SetProperties(conf.get(), properties));
  char error[512];
  KafkaHandle client(rd_kafka_new(type, conf.get(), error, sizeof(error)));
  if (!client) return absl::InvalidArgumentError(std::string("kafka client: ") + error);
  (void)conf.release();
  return client;
}

// The ids of `topic`'s partitions, from the cluster's metadata; UNAVAILABLE
// while one has no leader.
absl::StatusOr<std::vector<int32_t>> PartitionIds(rd_kafka_t* client, const std::string& topic,
                                                  std::chrono::milliseconds timeout) {
  using TopicHandle = std::unique_ptr<rd_kafka_topic_t, Deleter<rd_kafka_topic_destroy>>;
  using MetadataHandle =
      std::unique_ptr<const rd_kafka_metadata_t, Deleter<rd_kafka_metadata_destroy>>;
  TopicHandle handle(rd_kafka_topic_new(client, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  FLYWHEEL_RETURN_IF_ERROR(StatusFromKafkaError(
      rd_kafka_metadata(client, 0, handle.get(), &raw, static_cast<int>(timeout.count())),
      "metadata of " + topic));
  MetadataHandle metadata(raw);
  if (metadata->topic_cnt != 1) return absl::NotFoundError("no metadata for topic " + topic);
  const rd_kafka_metadata_topic_t& t = metadata->topics[0];
  FLYWHEEL_RETURN_IF_ERROR(StatusFromKafkaError(t.err, "topic " + topic));
  std::vector<int32_t> ids;
  for (int i = 0; i < t.partition_cnt; ++i) {
    const rd_kafka_metadata_partition_t& partition = t.partitions[i];
    FLYWHEEL_RETURN_IF_ERROR(StatusFromKafkaError(
        partition.err, "topic " + topic + " partition " + std::to_string(partition.id)));
    if (partition.leader < 0) {
      return absl::UnavailableError("topic " + topic + " partition " +
                                    std::to_string(partition.id) + " has no leader yet");
    }
    ids.push_back(partition.id);
  }
  return ids;
}

// Until every topic's metadata shows each of its partitions with a leader, or
// `deadline`: a broker answers CreateTopics once the controller has the
// topics, and serves them in metadata a moment later. A service that
// starts producing at once would otherwise hit "unknown topic".
absl::Status AwaitTopicsVisible(rd_kafka_t* client, const std::vector<TopicSpec>& topics,
                                std::chrono::steady_clock::time_point deadline) {
  for (const TopicSpec& spec : topics) {
    while (true) {
      auto ids = PartitionIds(client, spec.name, std::chrono::milliseconds(1000));
      if (ids.ok() && static_cast<int>(ids->size()) >= spec.partitions) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            "kafka admin: topic " + spec.name + " created but not in the metadata yet: " +
            (ids.ok() ? "partitions missing" : ids.status().ToString()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnsureTopics(const std::string& bootstrap_servers,
                          const std::vector<TopicSpec>& topics, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& properties) {
  if (topics.empty()) return absl::OkStatus();
  std::map<std::string, std::string> with_servers = properties;
  with_servers["bootstrap.servers"] = bootstrap_servers;
  FLYWHEEL_ASSIGN_OR_RETURN(KafkaHandle admin, NewClient(RD_KAFKA_PRODUCER, with_servers));
  char error[512];

  std::vector<NewTopicHandle> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const TopicSpec& spec : topics) {
    owned.emplace_back(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                             spec.replication_factor, error, sizeof(error)));
    if (!owned.back()) {
      return absl::InvalidArgumentError("topic " + spec.name + ": " + error);
    }
    for (const auto& [name, value] : spec.configs) {
      if (rd_kafka_resp_err_t err =
              rd_kafka_NewTopic_set_config(owned.back().get(), name.c_str(), value.c_str());
          err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return StatusFromKafkaError(err, "topic " + spec.name + " config " + name);
      }
    }
    raw.push_back(owned.back().get());
  }

  AdminOptionsHandle options(
      rd_kafka_AdminOptions_new(admin.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()),
                                              error, sizeof(error));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), error,
                                            sizeof(error));
  QueueHandle queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_CreateTopics(admin.get(), raw.data(), raw.size(), options.get(), queue.get());

  EventHandle event(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count()) + 1000));
  if (!event) return absl::DeadlineExceededError("kafka admin: no answer to CreateTopics");
  FLYWHEEL_RETURN_IF_ERROR(
      StatusFromKafkaError(rd_kafka_event_error(event.get()), "create topics"));
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      continue;
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    return StatusFromKafkaError(err, std::string("create topic ") +
                                         rd_kafka_topic_result_name(results[i]) +
                                         (message ? std::string(": ") + message : ""));
  }
  return AwaitTopicsVisible(admin.get(), topics, std::chrono::steady_clock::now() + timeout);
}

absl::StatusOr<std::map<int32_t, int64_t>> RecordCounts(const std::string& bootstrap_servers,
                                                        const std::string& topic,
                                                        std::chrono::milliseconds timeout) {
  FLYWHEEL_ASSIGN_OR_RETURN(
      KafkaHandle client, NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap_servers}}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<int32_t> partitions,
                            PartitionIds(client.get(), topic, timeout));
  std::map<int32_t, int64_t> counts;
  for (const int32_t partition : partitions) {
    int64_t low = 0;
    int64_t high = 0;
    FLYWHEEL_RETURN_IF_ERROR(StatusFromKafkaError(
        rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), partition, &low, &high,
                                         static_cast<int>(timeout.count())),
        "watermarks of " + topic));
    counts[partition] = high - low;
  }
  return counts;
}

absl::StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(const std::string& bootstrap_servers,
                                                            const std::string& group,
                                                            const std::string& topic,
                                                            std::chrono::milliseconds timeout) {
  // A consumer that never joins the group: it only asks the coordinator.
  FLYWHEEL_ASSIGN_OR_RETURN(KafkaHandle client,
                            NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_servers},
                                                          {"group.id", group}}));
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<int32_t> partitions,
                            PartitionIds(client.get(), topic, timeout));
  TopicPartitionListHandle list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const int32_t partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  FLYWHEEL_RETURN_IF_ERROR(StatusFromKafkaError(
      rd_kafka_committed(client.get(), list.get(), static_cast<int>(timeout.count())),
      "committed offsets of " + group));
  std::map<int32_t, int64_t> committed;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset >= 0) committed[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_consumer_close(client.get());
  return committed;
}

absl::StatusOr<std::map<std::string, std::string>> LatestValues(
    const std::string& bootstrap_servers, const std::string& topic,
    std::chrono::milliseconds timeout) {
  // Partitions are assigned, not subscribed: the group is never joined and
  // nothing is committed, but librdkafka's consumer poll needs one named.
  FLYWHEEL_ASSIGN_OR_RETURN(KafkaHandle client,
                            NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap_servers},
                                                          {"group.id", "flywheel-latest-values"},
                                                          {"enable.auto.commit", "false"},
                                                          {"enable.auto.offset.store", "false"},
                                                          {"enable.partition.eof", "true"}}));
  const absl::Time give_up = absl::Now() + absl::FromChrono(timeout);
  FLYWHEEL_ASSIGN_OR_RETURN(std::vector<int32_t> partitions,
                            PartitionIds(client.get(), topic, timeout));
  // The end of each partition that holds records: where reading stops.
  std::map<int32_t, int64_t> ends;
  TopicPartitionListHandle list(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const int32_t partition : partitions) {
    int64_t low = 0;
    int64_t high = 0;
    // A topic just created may have no leader yet for a moment.
    while (true) {
      absl::Status asked = StatusFromKafkaError(
          rd_kafka_query_watermark_offsets(client.get(), topic.c_str(), partition, &low, &high,
                                           static_cast<int>(timeout.count())),
          "watermarks of " + topic);
      if (asked.ok()) break;
      if (!absl::IsUnavailable(asked) || absl::Now() >= give_up) return asked;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (high <= low) continue;
    ends[partition] = high;
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = low;
  }
  std::map<std::string, std::string> latest;
  if (ends.empty()) return latest;
  FLYWHEEL_RETURN_IF_ERROR(
      StatusFromKafkaError(rd_kafka_assign(client.get(), list.get()), "assigning " + topic));
  while (!ends.empty()) {
    if (absl::Now() >= give_up) {
      return absl::DeadlineExceededError(absl::StrCat(
          "reading ", topic, ": ", ends.size(), " partitions not read to their end in ",
          absl::FormatDuration(absl::FromChrono(timeout))));
    }
    MessageHandle message(rd_kafka_consumer_poll(client.get(), 100));
    if (!message) continue;
    const auto end = ends.find(message->partition);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // A compaction may have removed the last offsets (old tombstones).
      if (end != ends.end() && message->offset >= end->second) ends.erase(end);
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return StatusFromKafkaError(message->err, "reading " + topic);
    }
    std::string key = message->key == nullptr
                          ? ""
                          : std::string(static_cast<const char*>(message->key), message->key_len);
    if (message->payload == nullptr) {
      latest.erase(key);
    } else {
      latest[std::move(key)] =
          std::string(static_cast<const char*>(message->payload), message->len);
    }
    if (end != ends.end() && message->offset + 1 >= end->second) ends.erase(end);
  }
  rd_kafka_consumer_close(client.get());
  return latest;
}

}  // namespace flywheel::kafka
