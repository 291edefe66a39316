#include "flywheel/kafka/consumer.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "event_age.h"
#include "flywheel/core/status.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/log/log.h"
#include "kafka_metrics.h"
#include "partition_workers.h"
#include "rdkafka_handles.h"

namespace flywheel::kafka {
namespace {

// How often the dead-letter topic may refuse a record (for a reason other
// than an outage or its size) before the record is parked.
constexpr int kDeadLetterAttempts = 3;

// How often a consumer that holds no partitions says so.
constexpr absl::Duration kUnassignedReportInterval = absl::Seconds(15);

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

class KafkaConsumer final : public Consumer {
 public:
  KafkaConsumer(ConsumerOptions options, EventHandler handler, metrics::Metrics* metrics,
                const Clock* clock)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        kafka_metrics_(metrics),
        clock_(clock ? *clock : SystemClock::Instance()) {}

  ~KafkaConsumer() override { Stop(); }

  absl::Status Init(metrics::Metrics* metrics) {
    ConfHandle conf(rd_kafka_conf_new());
    std::map<std::string, std::string> props = options_.properties;
    props["bootstrap.servers"] = options_.bootstrap_servers;
    props["group.id"] = options_.group_id;
    if (!options_.group_instance_id.empty()) {
      props["group.instance.id"] = options_.group_instance_id;
    }
    props["partition.assignment.strategy"] = "cooperative-sticky";
    // At least once: the offset of a record is stored only after its handler
    // has returned OK (or it went to the dead-letter topic); auto commit then
    // commits what was stored.
    props["enable.auto.offset.store"] = "false";
    props["enable.auto.commit"] = "true";
    props.try_emplace("auto.offset.reset", "earliest");
    props["statistics.interval.ms"] = std::to_string(options_.stats_interval.count());
    FLYWHEEL_RETURN_IF_ERROR(SetProperties(conf.get(), props));
    RouteLogs(conf.get());
    rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaConsumer::OnRebalance);
    rd_kafka_conf_set_stats_cb(conf.get(), &KafkaConsumer::OnStats);
    rd_kafka_conf_set_opaque(conf.get(), this);

    char error[512];
    handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error)));
    if (!handle_) return absl::InvalidArgumentError(std::string("kafka consumer: ") + error);
    (void)conf.release();
    rd_kafka_poll_set_consumer(handle_.get());

    ProducerOptions dlq;
    dlq.bootstrap_servers = options_.bootstrap_servers;
    dlq.client_id = options_.group_id + "-dlq";
    dlq.linger = std::chrono::milliseconds(0);
    // A record that came in compressed may be far larger than the broker's
    // record limit once decompressed: compress dead letters too, and let the
    // broker (not a client-side check) judge their size.
    dlq.properties = {{"compression.type", "lz4"}, {"message.max.bytes", "33554432"}};
    FLYWHEEL_ASSIGN_OR_RETURN(dead_letters_, Producer::Create(dlq, metrics));
    return absl::OkStatus();
  }

  absl::Status Start() override {
    TopicPartitionListHandle topics(
        rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
    for (const auto& topic : options_.topics) {
      rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    FLYWHEEL_RETURN_IF_ERROR(
        StatusFromKafkaError(rd_kafka_subscribe(handle_.get(), topics.get()), "subscribe"));
    kafka_metrics_.SetAssignedPartitions(options_.group_id, 0);
    workers_ = std::make_unique<PartitionWorkers>(
        options_.concurrency, /*max_queued_per_lane=*/1000, [this](MessageHandle msg) {
          // Runs on a lane thread; offsets_store is thread-safe.
          if (!Process(*msg)) return;
          if (rd_kafka_resp_err_t err =
                  rd_kafka_offsets_store(handle_.get(), OneOffset(*msg).get());
              err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            // Typically the partition was just revoked: its next owner
            // handles the record again, which idempotent handlers allow.
            log::Warn("offset not stored",
                      {{"handler", options_.handler_name}, {"error", rd_kafka_err2str(err)}});
          }
        });
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    // Stop the lanes first: the poll thread may be waiting in Push for room
    // in a lane whose record is retrying, and only this wakes both. Records
    // in hand finish or give up their retries; queued ones are dropped
    // unstored, so whoever owns their partitions next gets them.
    if (workers_) workers_->Stop();
    if (thread_.joinable()) thread_.join();
    if (handle_) {
      // Leaves the group: the final revoke commits stored offsets.
      rd_kafka_consumer_close(handle_.get());
    }
  }

  bool HasAssignment() const override { return assigned_partitions_.load() > 0; }

 private:
  // The poll thread: polls and hands records to the partition lanes; also
  // runs the rebalance and statistics callbacks.
  void Run() {
    absl::Time unassigned_since = absl::Now();
    absl::Time next_report = unassigned_since + kUnassignedReportInterval;
    while (!IsStopping()) {
      if (assigned_partitions_.load() > 0) {
        unassigned_since = absl::InfiniteFuture();
      } else if (unassigned_since == absl::InfiniteFuture()) {
        unassigned_since = absl::Now();
        next_report = unassigned_since + kUnassignedReportInterval;
      } else if (absl::Now() >= next_report) {
        ReportUnassigned(absl::Now() - unassigned_since);
        next_report += kUnassignedReportInterval;
      }
      MessageHandle msg(rd_kafka_consumer_poll(handle_.get(), 100));
      if (!msg) continue;
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        // A topic another service owns, not created yet: the consumer picks
        // it up once it exists.
        log::Info("kafka topic not there yet", {{"handler", options_.handler_name},
                                                {"error", rd_kafka_message_errstr(msg.get())}});
        continue;
      }
      if (msg->err) {
        log::Warn("kafka consume error", {{"handler", options_.handler_name},
                                          {"error", rd_kafka_message_errstr(msg.get())}});
        continue;
      }
      workers_->Push(std::move(msg));
    }
  }

  // Says why nothing is consumed: after a restart without static
  // membership (or under a new instance id) the group waits for the old
  // member's session to time out before it rebalances.
  void ReportUnassigned(absl::Duration waited) {
    log::Warn("kafka consumer holds no partitions",
              {{"handler", options_.handler_name},
               {"group", options_.group_id},
               {"group_instance_id", options_.group_instance_id},
               {"waited_seconds", absl::ToInt64Seconds(waited)},
               {"hint",
                "the group may be waiting for a previous member's session to time out, or has "
                "more members than partitions"}});
  }

  TopicPartitionListHandle OneOffset(const rd_kafka_message_t& msg) {
    TopicPartitionListHandle list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), rd_kafka_topic_name(msg.rkt), msg.partition)
        ->offset = msg.offset + 1;
    return list;
  }

  // Returns true when the record is done with (handled or dead-lettered) and
  // its offset may be stored; false when stopping before that.
  bool Process(const rd_kafka_message_t& msg) {
    const absl::Time started = absl::Now();
    ConsumedEvent consumed;
    consumed.record = RecordFromMessage(msg);
    if (options_.decode_cloud_events) {
      auto decoded = Decode(consumed.record);
      if (!decoded.ok()) return DeadLetter(consumed.record, decoded.status(), started);
      consumed.event = *std::move(decoded);
    }

    absl::Duration backoff = absl::FromChrono(options_.retry_initial);
    while (true) {
      absl::Status status = handler_(consumed);
      if (status.ok()) {
        kafka_metrics_.RecordHandled(options_.handler_name, "ok",
                                     absl::ToDoubleSeconds(absl::Now() - started));
        // A ce_time from the future must not count as fast nor pull the
        // age histogram's sum below zero: see AgeOfEvent.
        const EventAge age =
            AgeOfEvent(clock_.Now(), consumed.event.time, consumed.record.timestamp);
        if (age.skew) {
          kafka_metrics_.RecordClockSkew(options_.handler_name, absl::ToDoubleSeconds(*age.skew));
        }
        if (age.age) {
          kafka_metrics_.RecordEventAge(options_.handler_name, absl::ToDoubleSeconds(*age.age));
        }
        return true;
      }
      if (!IsRetryable(status)) return DeadLetter(consumed.record, status, started);

      kafka_metrics_.RecordHandled(options_.handler_name, "retried",
                                   absl::ToDoubleSeconds(absl::Now() - started));
      log::Warn("handler failed, will retry", {{"handler", options_.handler_name},
                                               {"event_id", consumed.event.id},
                                               {"error", status.ToString()},
                                               {"backoff_ms", absl::ToInt64Milliseconds(backoff)}});
      if (workers_->SleepUnlessAbandoned(backoff,
                                         {consumed.record.topic, consumed.record.partition})) {
        return false;  // not done: redelivered to whoever owns the partition next
      }
      backoff = std::min(backoff * 2, absl::FromChrono(options_.retry_max));
    }
  }

  bool DeadLetter(const Record& original, const absl::Status& reason, absl::Time started) {
    Record dead = original;
    dead.topic = options_.dead_letter_topic;
    dead.headers.push_back({kDeadLetterReasonHeader, std::string(reason.ToString())});
    dead.headers.push_back({kDeadLetterTopicHeader, original.topic});
    dead.headers.push_back({kDeadLetterPartitionHeader, std::to_string(original.partition)});
    dead.headers.push_back({kDeadLetterOffsetHeader, std::to_string(original.offset)});
    dead.headers.push_back({kDeadLetterHandlerHeader, options_.handler_name});

    // A dead letter must never hold its partition for good. A broker that is
    // down or slow is waited out (nothing else on the partition could be
    // handled either); a record the dead-letter topic refuses for its size
    // is written again with only the start of its value; any other refusal
    // is tried a few times, then the record is parked: logged with its
    // coordinates and counted, and consuming goes on.
    absl::Duration backoff = absl::FromChrono(options_.retry_initial);
    int refusals = 0;
    absl::Status last;
    while (true) {
      auto written = dead_letters_->SendAndWait(dead);
      if (written.ok()) break;
      last = written.status();
      if (IsRecordTooLarge(last) && dead.value.size() > kDeadLetterKeptValueBytes) {
        dead.headers.push_back({kDeadLetterTruncatedHeader,
                                absl::StrCat("value of ", original.value.size(), " bytes, first ",
                                             kDeadLetterKeptValueBytes, " kept")});
        dead.value.resize(kDeadLetterKeptValueBytes);
        log::Warn("dead letter too large, keeping the start of its value",
                  {{"handler", options_.handler_name},
                   {"topic", original.topic},
                   {"partition", original.partition},
                   {"offset", original.offset},
                   {"value_bytes", static_cast<int64_t>(original.value.size())}});
        continue;
      }
      if (!IsRetryable(last) && ++refusals >= kDeadLetterAttempts) {
        return Park(original, reason, last, started);
      }
      log::Error("dead-letter write failed, will retry",
                 {{"handler", options_.handler_name}, {"error", last.ToString()}});
      if (workers_->SleepUnlessAbandoned(backoff, {original.topic, original.partition})) {
        return false;
      }
      backoff = std::min(backoff * 2, absl::FromChrono(options_.retry_max));
    }
    log::Warn("record dead-lettered", {{"handler", options_.handler_name},
                                       {"topic", original.topic},
                                       {"partition", original.partition},
                                       {"offset", original.offset},
                                       {"reason", std::string(reason.ToString())}});
    kafka_metrics_.RecordHandled(options_.handler_name, "dead_lettered",
                                 absl::ToDoubleSeconds(absl::Now() - started));
    return true;
  }

  // Gives up on a record the dead-letter topic keeps refusing. It stays in
  // its own topic at the logged coordinates (until retention removes it),
  // which is where an operator replays it from.
  bool Park(const Record& original, const absl::Status& reason, const absl::Status& refusal,
            absl::Time started) {
    log::Error("record parked: the dead-letter topic refused it",
               {{"handler", options_.handler_name},
                {"topic", original.topic},
                {"partition", original.partition},
                {"offset", original.offset},
                {"reason", std::string(reason.ToString())},
                {"dead_letter_error", refusal.ToString()}});
    kafka_metrics_.RecordHandled(options_.handler_name, "parked",
                                 absl::ToDoubleSeconds(absl::Now() - started));
    return true;
  }

  bool IsStopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Runs on the consumer thread, inside rd_kafka_consumer_poll.
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    // A failed step is logged; a failed (un)assign leaves the count as it was.
    auto failed = [self](const char* step, const char* error) {
      log::Error("kafka rebalance step failed",
                 {{"handler", self->options_.handler_name}, {"step", step}, {"error", error}});
      return false;
    };
    auto check = [&failed](rd_kafka_error_t* error, const char* step) {
      if (error == nullptr) return true;
      failed(step, rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
      return false;
    };
    auto check_err = [&failed](rd_kafka_resp_err_t err, const char* step) {
      return err == RD_KAFKA_RESP_ERR_NO_ERROR || failed(step, rd_kafka_err2str(err));
    };
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      const bool assigned = cooperative
                                ? check(rd_kafka_incremental_assign(rk, partitions), "assign")
                                : check_err(rd_kafka_assign(rk, partitions), "assign");
      if (assigned) self->assigned_partitions_ += partitions->cnt;
      self->kafka_metrics_.SetAssignedPartitions(self->options_.group_id,
                                                 self->assigned_partitions_.load());
    } else {
      // Let the lanes finish (or give up) the records of these partitions,
      // then commit what was stored before the partitions move on.
      std::vector<TopicPartition> leaving;
      for (int i = 0; i < partitions->cnt; ++i) {
        leaving.emplace_back(partitions->elems[i].topic, partitions->elems[i].partition);
      }
      if (self->workers_) self->workers_->Revoke(leaving);
      if (rd_kafka_resp_err_t commit = rd_kafka_commit(rk, nullptr, /*async=*/0);
          commit != RD_KAFKA_RESP_ERR_NO_ERROR && commit != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        check_err(commit, "commit");  // the next owner re-handles what was not committed
      }
      if (cooperative) {
        if (check(rd_kafka_incremental_unassign(rk, partitions), "unassign")) {
          self->assigned_partitions_ -= partitions->cnt;
        }
      } else if (check_err(rd_kafka_assign(rk, nullptr), "unassign")) {
        self->assigned_partitions_ = 0;
      }
      if (self->workers_) self->workers_->ClearRevoked(leaving);
      self->kafka_metrics_.SetAssignedPartitions(self->options_.group_id,
                                                 self->assigned_partitions_.load());
    }
    log::Info("kafka rebalance",
              {{"handler", self->options_.handler_name},
               {"event", err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assign" : "revoke"},
               {"partitions", partitions->cnt}});
  }

  // Runs on the consumer thread, inside rd_kafka_consumer_poll. Returning 0
  // lets librdkafka free the JSON.
  static int OnStats(rd_kafka_t*, char* json, size_t len, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    nlohmann::json stats = nlohmann::json::parse(json, json + len, nullptr, false);
    if (stats.is_discarded() || !stats.contains("topics")) return 0;
    for (const auto& [topic, t] : stats["topics"].items()) {
      if (!t.contains("partitions")) continue;
      for (const auto& [partition, p] : t["partitions"].items()) {
        const int64_t lag = p.value("consumer_lag", int64_t{-1});
        if (partition == "-1" || lag < 0) continue;
        self->kafka_metrics_.SetLag(self->options_.group_id, topic, partition,
                                    static_cast<double>(lag));
      }
    }
    return 0;
  }

  ConsumerOptions options_;
  EventHandler handler_;
  KafkaMetrics kafka_metrics_;
  const Clock& clock_;
  std::unique_ptr<Producer> dead_letters_;
  KafkaHandle handle_;
  std::atomic<int> assigned_partitions_{0};

  std::unique_ptr<PartitionWorkers> workers_;
  std::mutex mu_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options,
                                                           EventHandler handler,
                                                           metrics::Metrics* metrics,
                                                           const Clock* clock) {
  if (options.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("kafka consumer: bootstrap_servers is empty");
  }
  if (options.group_id.empty())
    return absl::InvalidArgumentError("kafka consumer: group_id is empty");
  if (options.topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");
  if (options.dead_letter_topic.empty()) {
    return absl::InvalidArgumentError("kafka consumer: dead_letter_topic is empty");
  }
  if (!handler) return absl::InvalidArgumentError("kafka consumer: no handler");
  auto consumer = std::make_unique<KafkaConsumer>(options, std::move(handler), metrics, clock);
  FLYWHEEL_RETURN_IF_ERROR(consumer->Init(metrics));
  return consumer;
}

}  // namespace flywheel::kafka
