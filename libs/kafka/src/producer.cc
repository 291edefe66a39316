#include "flywheel/kafka/producer.h"

#include <atomic>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "flywheel/core/status.h"
#include "flywheel/log/log.h"
#include "kafka_metrics.h"
#include "rdkafka_handles.h"

namespace flywheel::kafka {
namespace {

// What travels with each record through librdkafka and back in its delivery
// report.
struct InFlight {
  DeliveryCallback done;
  absl::Time sent;
  std::string topic;
};

class KafkaProducer final : public Producer {
 public:
  KafkaProducer(ProducerOptions options, metrics::Metrics* metrics)
      : options_(std::move(options)), metrics_(metrics) {}

  ~KafkaProducer() override {
    stopping_ = true;
    if (poller_.joinable()) poller_.join();
    if (handle_) {
      // Deliver what is still queued; whatever cannot be delivered in time
      // gets its callback with an error when the handle is destroyed.
      rd_kafka_flush(handle_.get(), 10'000);
    }
  }

  absl::Status Init() {
    ConfHandle conf(rd_kafka_conf_new());
    std::map<std::string, std::string> props = options_.properties;
    props["bootstrap.servers"] = options_.bootstrap_servers;
    props["client.id"] = options_.client_id;
    props["linger.ms"] = std::to_string(options_.linger.count());
    props["enable.idempotence"] = "true";
    props["acks"] = "all";
    FLYWHEEL_RETURN_IF_ERROR(SetProperties(conf.get(), props));
    RouteLogs(conf.get());
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::OnDelivery);
    rd_kafka_conf_set_opaque(conf.get(), this);

    char error[512];
    handle_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error)));
    if (!handle_) return absl::InvalidArgumentError(std::string("kafka producer: ") + error);
    (void)conf.release();  // rd_kafka_new owns it now
    poller_ = std::thread([this] {
      while (!stopping_) rd_kafka_poll(handle_.get(), 100);
    });
    return absl::OkStatus();
  }

  void Send(Record record, DeliveryCallback done) override {
    auto* in_flight = new InFlight{std::move(done), absl::Now(), record.topic};
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const Header& h : record.headers) {
      rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                          static_cast<ssize_t>(h.value.size()));
    }
    const absl::Time give_up = absl::Now() + absl::FromChrono(options_.queue_full_wait);
    rd_kafka_resp_err_t err;
    while (true) {
      err = rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
                              RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
                              RD_KAFKA_V_VALUE(record.tombstone ? nullptr : record.value.data(),
                                               record.tombstone ? 0 : record.value.size()),
                              RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE(in_flight), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || absl::Now() >= give_up) break;
      // The queue drains as the poll thread serves delivery reports.
      rd_kafka_poll(handle_.get(), 10);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;  // librdkafka owns headers now

    rd_kafka_headers_destroy(headers);
    absl::Status status = StatusFromKafkaError(err, "produce to " + record.topic);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      status = absl::ResourceExhaustedError(status.message());
    kafka_metrics_.RecordProduced(record.topic, false, 0);
    in_flight->done(status, record);
    delete in_flight;
  }

  absl::StatusOr<Record> SendAndWait(Record record) override {
    std::promise<absl::StatusOr<Record>> promise;
    auto result = promise.get_future();
    Send(std::move(record), [&promise](const absl::Status& status, const Record& written) {
      if (status.ok()) {
        promise.set_value(written);
      } else {
        promise.set_value(status);
      }
    });
    return result.get();
  }

  absl::Status Flush(std::chrono::milliseconds timeout) override {
    return StatusFromKafkaError(rd_kafka_flush(handle_.get(), static_cast<int>(timeout.count())),
                                "flush");
  }

  absl::Status Prepare(const std::vector<std::string>& topics,
                       std::chrono::milliseconds timeout) override {
    for (const std::string& topic : topics) {
      // A topic handle joins the producer's topics; the metadata request
      // for it alone fills in its partitions and their leaders.
      rd_kafka_topic_t* handle = rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr);
      if (handle == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("kafka topic '", topic, "': ", rd_kafka_err2str(rd_kafka_last_error())));
      }
      const rd_kafka_metadata_t* metadata = nullptr;
      rd_kafka_resp_err_t topic_err =
          rd_kafka_metadata(handle_.get(), 0, handle, &metadata, static_cast<int>(timeout.count()));
      if (metadata != nullptr) {
        // The request can succeed for a topic the broker does not have.
        if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1) {
          topic_err = metadata->topics[0].err;
        }
        rd_kafka_metadata_destroy(metadata);
      }
      rd_kafka_topic_destroy(handle);
      if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return absl::UnavailableError(
            absl::StrCat("kafka topic '", topic, "': no metadata: ", rd_kafka_err2str(topic_err)));
      }
    }
    return absl::OkStatus();
  }

 private:
  // Runs on the poll thread (or in the destructor's flush), once per record.
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<KafkaProducer*>(opaque);
    std::unique_ptr<InFlight> in_flight(static_cast<InFlight*>(msg->_private));
    absl::Status status = StatusFromKafkaError(msg->err, "deliver to " + in_flight->topic);
    self->kafka_metrics_.RecordProduced(in_flight->topic, status.ok(),
                                        absl::ToDoubleSeconds(absl::Now() - in_flight->sent));
    if (!status.ok()) {
      log::Warn("kafka delivery failed",
                {{"topic", in_flight->topic}, {"error", status.ToString()}});
    }
    in_flight->done(status, RecordFromMessage(*msg));
  }

  ProducerOptions options_;
  metrics::Metrics* metrics_;
  KafkaMetrics kafka_metrics_{metrics_};
  KafkaHandle handle_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ProducerOptions& options,
                                                           metrics::Metrics* metrics) {
  if (options.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("kafka producer: bootstrap_servers is empty");
  }
  auto producer = std::make_unique<KafkaProducer>(options, metrics);
  if (absl::Status st = producer->Init(); !st.ok()) return st;
  return producer;
}

}  // namespace flywheel::kafka
