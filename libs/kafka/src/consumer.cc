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
  KafkaConsumer(ConsumerOptions options, BatchHandler handler, metrics::Metrics* metrics,
                const Clock* clock)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        kafka_metrics_(metrics),
        series_(kafka_metrics_.ForHandler(options_.handler_name)),
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
    // The version's default unless the caller chose (see ConsumerOptions).
    props.try_emplace("partition.assignment.strategy", DefaultAssignmentStrategy());
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
    workers_ = PartitionWorkers::Start(
        options_.concurrency,
        {.max_in_flight = static_cast<size_t>(options_.max_in_flight_events),
         .max_batch = static_cast<size_t>(options_.max_batch_events),
         .retry_initial = absl::FromChrono(options_.retry_initial),
         .retry_max = absl::FromChrono(options_.retry_max)},
        {.deliver =
             [this](PartitionBatch& batch, const BatchTicket& ticket,
                    std::weak_ptr<PartitionWorkers> workers) {
               Deliver(batch, ticket, std::move(workers));
             },
         .settle = [this](PartitionBatch& batch) { return Settle(batch); },
         .pause = [this](const TopicPartition& p, bool pause) { PauseOrResume(p, pause); },
         .store = [this](const TopicPartition& p, int64_t offset) { Store(p, offset); }});
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_) return;
      stop_requested_ = true;
    }
    AwaitFirstSync();
    // Drain while the poll thread still polls, so the group keeps this
    // member meanwhile: no more records are taken in, batches in the
    // handler get `drain_timeout` to complete, and what they finish is
    // stored. librdkafka also wants every message it handed out destroyed
    // before the close.
    if (workers_) ReportDropped(workers_->Close(absl::FromChrono(options_.drain_timeout)));
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
    if (handle_) {
      // Leaves the group (a static member only stops fetching); the final
      // revoke commits stored offsets.
      rd_kafka_consumer_close(handle_.get());
    }
    if (workers_) workers_->Stop();
  }

  bool HasAssignment() const override { return assigned_partitions_.load() > 0; }

 private:
  // librdkafka before 2.3.0 aborts in rd_kafka_destroy when the
  // cooperative-sticky assignor is torn down between a member's first
  // JoinGroup response (which picks the assignor: the protocol is no longer
  // NONE) and its first SyncGroup (librdkafka issue 4312). The default
  // assignor there is range; for a caller that chose cooperative-sticky
  // anyway, a consumer stopped inside that window lets the poll thread
  // finish the sync first: the first assign callback (even of no
  // partitions) says it has. Bounded, so a consumer whose group never syncs
  // still stops (and may then abort: choose range on such a version).
  void AwaitFirstSync() {
    const auto deadline = std::chrono::steady_clock::now() + kFirstSyncWait;
    std::unique_lock lock(mu_);
    while (!first_sync_ && thread_.joinable() && std::chrono::steady_clock::now() < deadline) {
      lock.unlock();
      const char* protocol = rd_kafka_rebalance_protocol(handle_.get());
      lock.lock();
      if (protocol == nullptr || std::string_view(protocol) == "NONE") return;
      synced_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  static constexpr std::chrono::seconds kFirstSyncWait{10};

  // The poll thread: polls and adds records to their partitions' windows
  // (never waiting: a full window pauses its partition instead); also runs
  // the rebalance and statistics callbacks.
  void Run() {
    absl::Time unassigned_since = absl::Now();
    absl::Time next_report = unassigned_since + kUnassignedReportInterval;
    absl::Time next_gauges = absl::InfinitePast();
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
      if (absl::Now() >= next_gauges) {
        kafka_metrics_.SetInFlightEvents(options_.group_id,
                                         static_cast<double>(workers_->in_flight_events()));
        kafka_metrics_.SetPausedPartitions(options_.group_id, workers_->paused_partitions());
        next_gauges = absl::Now() + absl::Milliseconds(200);
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

  static TopicPartitionListHandle OnePartition(const TopicPartition& partition) {
    TopicPartitionListHandle list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), partition.first.c_str(), partition.second);
    return list;
  }

  // Under the workers' lock, from the poll thread (pause) or a lane
  // (resume); both calls only queue an operation inside librdkafka.
  void PauseOrResume(const TopicPartition& partition, bool pause) {
    TopicPartitionListHandle list = OnePartition(partition);
    const rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(handle_.get(), list.get())
                                          : rd_kafka_resume_partitions(handle_.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::Warn(pause ? "partition not paused" : "partition not resumed",
                {{"handler", options_.handler_name},
                 {"topic", partition.first},
                 {"partition", partition.second},
                 {"error", rd_kafka_err2str(err ? err : list->elems[0].err)}});
    }
  }

  // Under the workers' lock, on a lane; offsets_store is thread-safe.
  void Store(const TopicPartition& partition, int64_t offset) {
    TopicPartitionListHandle list = OnePartition(partition);
    list->elems[0].offset = offset;
    if (rd_kafka_resp_err_t err = rd_kafka_offsets_store(handle_.get(), list.get());
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Typically the partition was just revoked: its next owner handles
      // the records again, which idempotent handlers allow.
      log::Warn("offset not stored",
                {{"handler", options_.handler_name}, {"error", rd_kafka_err2str(err)}});
    }
  }

  // On a lane: decodes the batch and hands what decodes to the handler.
  // Records that do not decode are dead-lettered here, before the rest is handled.
  void Deliver(PartitionBatch& batch, const BatchTicket& ticket,
               std::weak_ptr<PartitionWorkers> workers) {
    const size_t size = batch.entries.size();
    auto completion = std::make_shared<Completion>(std::move(workers), ticket, size);
    batch.times.assign(size, {std::nullopt, std::nullopt});
    batch.dead_lettered.assign(size, false);
    EventBatch events{.topic = batch.partition.first, .partition = batch.partition.second};
    events.events.reserve(size);
    for (size_t i = 0; i < size; ++i) {
      // Built in place: an event is large, and most decode.
      ConsumedEvent& consumed = events.events.emplace_back();
      consumed.record = RecordFromMessage(*batch.entries[i].item);
      if (options_.decode_cloud_events) {
        auto decoded = DecodeTakingPayload(consumed.record);
        if (!decoded.ok()) {
          // Dead-lettered before the events behind it are handled, as the
          // handler's own permanent failures are under PerEvent. Given up
          // (revoked), it stays not attempted.
          batch.dead_lettered[i] = DeadLetter(consumed.record, decoded.status(), absl::Now());
          events.events.pop_back();
          continue;
        }
        consumed.event = *std::move(decoded);
      }
      batch.times[i] = {consumed.event.time, consumed.record.timestamp};
      completion->handed.push_back(i);
    }
    if (events.events.empty()) {
      completion->Complete({});
      return;
    }
    series_.batches.Increment();
    handler_(std::move(events),
             [completion](std::vector<absl::Status> statuses) { completion->Complete(statuses); });
  }

  // What the handler's `done` reaches: maps its statuses back to the batch's
  // entries, once. Dropped uncalled, it fails the batch as ABORTED.
  struct Completion {
    Completion(std::weak_ptr<PartitionWorkers> workers, BatchTicket ticket, size_t size)
        : workers(std::move(workers)), ticket(std::move(ticket)), statuses(size) {}
    ~Completion() {
      if (!completed.load()) {
        Complete(std::vector<absl::Status>(
            handed.size(), absl::AbortedError("the handler dropped the batch's completion")));
      }
    }
    void Complete(const std::vector<absl::Status>& given) {
      if (completed.exchange(true)) return;
      std::vector<std::optional<absl::Status>> all = statuses;
      for (size_t j = 0; j < handed.size() && j < given.size(); ++j) all[handed[j]] = given[j];
      PartitionWorkers::Return(workers, ticket, std::move(all));
    }

    std::weak_ptr<PartitionWorkers> workers;
    BatchTicket ticket;
    std::vector<std::optional<absl::Status>> statuses;  // nullopt: not attempted
    std::vector<size_t> handed;  // entry index of each event handed to the handler
    std::atomic<bool> completed{false};
  };

  // On a lane: what became of each event of a completed batch. Dead
  // letters are written here, before their offsets may be stored.
  std::vector<EventOutcome> Settle(PartitionBatch& batch) {
    std::vector<EventOutcome> outcomes(batch.entries.size(), EventOutcome::kNotAttempted);
    const absl::Duration took = absl::Now() - batch.delivered;
    const double seconds = absl::ToDoubleSeconds(took);
    int retried = 0;
    size_t ok = 0;
    const absl::Status* first_retry = nullptr;
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      if (batch.dead_lettered[i]) {
        outcomes[i] = EventOutcome::kDone;
        continue;
      }
      if (i >= batch.statuses.size() || !batch.statuses[i]) continue;  // not attempted
      const absl::Status& status = *batch.statuses[i];
      if (status.ok()) {
        outcomes[i] = EventOutcome::kDone;
        ++ok;
        RecordAge(batch.times[i].first, batch.times[i].second);
      } else if (IsRetryable(status)) {
        outcomes[i] = EventOutcome::kRetry;
        if (retried++ == 0) first_retry = &status;
      } else {
        const Record record = RecordFromMessage(*batch.entries[i].item);
        outcomes[i] = DeadLetter(record, status, batch.delivered) ? EventOutcome::kDone
                                                                  : EventOutcome::kNotAttempted;
      }
    }
    // Every event of the batch took as long as the batch.
    series_.ok.Increment(static_cast<double>(ok));
    series_.retried.Increment(retried);
    KafkaMetrics::ObserveLatency(series_.duration, ok + static_cast<size_t>(retried), seconds);
    if (first_retry != nullptr) {
      log::Warn("handler failed, will retry", {{"handler", options_.handler_name},
                                               {"topic", batch.partition.first},
                                               {"partition", batch.partition.second},
                                               {"events", retried},
                                               {"error", first_retry->ToString()}});
    }
    return outcomes;
  }

  void RecordAge(std::optional<absl::Time> event_time, std::optional<absl::Time> record_time) {
    // A ce_time from the future must not count as fast nor pull the age
    // histogram's sum below zero: see AgeOfEvent.
    const EventAge age = AgeOfEvent(clock_.Now(), event_time, record_time);
    if (age.skew) {
      kafka_metrics_.RecordClockSkew(options_.handler_name, absl::ToDoubleSeconds(*age.skew));
    }
    if (age.age) {
      series_.event_age.Observe(absl::ToDoubleSeconds(*age.age));
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
    series_.dead_lettered.Increment();
    series_.duration.Observe(absl::ToDoubleSeconds(absl::Now() - started));
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
    series_.parked.Increment();
    series_.duration.Observe(absl::ToDoubleSeconds(absl::Now() - started));
    return true;
  }

  bool IsStopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  static std::vector<TopicPartition> Partitions(const rd_kafka_topic_partition_list_t& list) {
    std::vector<TopicPartition> partitions;
    for (int i = 0; i < list.cnt; ++i) {
      partitions.emplace_back(list.elems[i].topic, list.elems[i].partition);
    }
    return partitions;
  }

  // Drains or drops the windows of partitions leaving this member.
  void RevokeFromWorkers(const std::vector<TopicPartition>& partitions) {
    ReportDropped(workers_->Revoke(partitions, absl::FromChrono(options_.drain_timeout)));
  }

  void ReportDropped(int partitions) {
    if (partitions == 0) return;
    log::Warn("dropped partitions with batches still in the handler",
              {{"handler", options_.handler_name},
               {"partitions", partitions},
               {"drain_timeout_ms", static_cast<int64_t>(options_.drain_timeout.count())},
               {"hint", "their events go to the next owner; late completions are ignored"}});
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
      {
        std::lock_guard lock(self->mu_);
        self->first_sync_ = true;
      }
      self->synced_.notify_all();
      self->kafka_metrics_.SetAssignedPartitions(self->options_.group_id,
                                                 self->assigned_partitions_.load());
    } else {
      // Let the batches in hand of these partitions complete (or give up),
      // then commit what was stored before the partitions move on.
      if (self->workers_) self->RevokeFromWorkers(Partitions(*partitions));
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
  BatchHandler handler_;
  KafkaMetrics kafka_metrics_;
  KafkaMetrics::HandlerSeries series_;
  const Clock& clock_;
  std::unique_ptr<Producer> dead_letters_;
  KafkaHandle handle_;
  std::atomic<int> assigned_partitions_{0};

  std::shared_ptr<PartitionWorkers> workers_;
  std::mutex mu_;
  bool stop_requested_ = false;
  bool stopping_ = false;    // the poll thread ends
  bool first_sync_ = false;  // a first assignment came (see AwaitFirstSync)
  std::condition_variable synced_;
  std::thread thread_;
};

}  // namespace

const char* DefaultAssignmentStrategy() {
  // RD_KAFKA_VERSION's layout: 0xMMmmrrpp, pp 0xff for a release.
  constexpr int kFixedIn = 0x020300ff;
  return rd_kafka_version() >= kFixedIn ? "cooperative-sticky" : "range";
}

BatchHandler PerEvent(EventHandler handler) {
  return [handler = std::move(handler)](EventBatch batch, BatchDone done) {
    std::vector<absl::Status> statuses;
    statuses.reserve(batch.events.size());
    for (const ConsumedEvent& event : batch.events) {
      statuses.push_back(handler(event));
      // The events behind a failure wait until it is retried or
      // dead-lettered, as they did when records came one at a time.
      if (!statuses.back().ok()) break;
    }
    done(std::move(statuses));
  };
}

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options,
                                                           EventHandler handler,
                                                           metrics::Metrics* metrics,
                                                           const Clock* clock) {
  if (!handler) return absl::InvalidArgumentError("kafka consumer: no handler");
  return Create(options, PerEvent(std::move(handler)), metrics, clock);
}

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options,
                                                           BatchHandler handler,
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
  if (options.max_batch_events < 1 || options.max_in_flight_events < 1) {
    return absl::InvalidArgumentError(
        "kafka consumer: max_batch_events and max_in_flight_events must be at least 1");
  }
  if (!handler) return absl::InvalidArgumentError("kafka consumer: no handler");
  auto consumer = std::make_unique<KafkaConsumer>(options, std::move(handler), metrics, clock);
  FLYWHEEL_RETURN_IF_ERROR(consumer->Init(metrics));
  return consumer;
}

}  // namespace flywheel::kafka
