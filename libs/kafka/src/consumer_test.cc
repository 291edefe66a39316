#include "flywheel/kafka/consumer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::kafka {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records what a handler saw, thread-safely.
class Seen {
 public:
  void Add(const std::string& id) {
    std::lock_guard lock(mu_);
    ids_.push_back(id);
  }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mu_);
    return ids_;
  }
  size_t size() const { return ids().size(); }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> ids_;
};

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = testing::BootstrapServers();
    ASSERT_TRUE(servers.ok()) << servers.status();
    servers_ = *servers;
    auto topic = testing::CreateUniqueTopic(servers_, "events");
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = *topic;
    auto dlq = testing::CreateUniqueTopic(servers_, "dlq", 1);
    ASSERT_TRUE(dlq.ok()) << dlq.status();
    dlq_ = *dlq;
    auto producer = Producer::Create({.bootstrap_servers = servers_});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
    group_ = "test-group-" + NewRandomId().substr(0, 12);
  }

  // Publishes a CloudEvent with id `id`; every event of a test shares one key
  // so they sit on one partition in order.
  void Publish(const std::string& id) {
    CloudEvent event{.id = id,
                     .source = "//tests",
                     .type = "dev.flywheel.test.v1",
                     .time = absl::Now(),
                     .data_content_type = kProtobufContentType,
                     .key = "aggregate-1",
                     .data = "payload-" + id};
    auto record = EncodeBinary(event, topic_);
    ASSERT_TRUE(record.ok());
    ASSERT_TRUE(producer_->SendAndWait(*record).ok());
  }

  void PublishRaw(const std::string& value) {
    ASSERT_TRUE(
        producer_->SendAndWait(Record{.topic = topic_, .key = "aggregate-1", .value = value}).ok());
  }

  std::unique_ptr<Consumer> StartConsumer(EventHandler handler,
                                          metrics::Metrics* metrics = nullptr) {
    ConsumerOptions options{.bootstrap_servers = servers_,
                            .group_id = group_,
                            .topics = {topic_},
                            .dead_letter_topic = dlq_,
                            .handler_name = "test.handler",
                            .stats_interval = std::chrono::milliseconds(200),
                            .retry_initial = std::chrono::milliseconds(20),
                            .retry_max = std::chrono::milliseconds(100)};
    auto consumer = Consumer::Create(options, std::move(handler), metrics);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    if (!consumer.ok()) return nullptr;
    EXPECT_TRUE((*consumer)->Start().ok());
    return *std::move(consumer);
  }

  // A consumer whose handler only records the ids it sees.
  std::unique_ptr<Consumer> StartRecording(Seen& seen, metrics::Metrics* metrics = nullptr) {
    return StartConsumer(
        [&seen](const ConsumedEvent& c) {
          seen.Add(c.event.id);
          return absl::OkStatus();
        },
        metrics);
  }

  std::string servers_;
  std::string topic_;
  std::string dlq_;
  std::string group_;
  std::unique_ptr<Producer> producer_;
};

TEST_F(ConsumerTest, HandledOffsetsAreCommittedSoARestartResumesAfterThem) {
  for (int i = 0; i < 5; ++i) Publish("e" + std::to_string(i));
  Seen first;
  auto consumer = StartRecording(first);
  ASSERT_TRUE(WaitFor([&] { return first.size() == 5; })) << first.size();
  EXPECT_THAT(first.ids(), ElementsAre("e0", "e1", "e2", "e3", "e4"));
  consumer->Stop();

  Publish("e5");
  Seen second;
  auto restarted = StartRecording(second);
  ASSERT_TRUE(WaitFor([&] { return second.size() >= 1; }));
  // Same partition, in order: had any earlier offset not been committed,
  // it would come before e5.
  EXPECT_EQ(second.ids().front(), "e5");
}

TEST_F(ConsumerTest, UndecodableRecordGoesToDeadLetterAndConsumingGoesOn) {
  PublishRaw("this is not a cloud event");
  Publish("good");
  Seen seen;
  auto consumer = StartRecording(seen);
  ASSERT_TRUE(WaitFor([&] { return seen.size() == 1; }));
  EXPECT_THAT(seen.ids(), ElementsAre("good"));

  std::vector<Record> dead = testing::ReadTopic(servers_, dlq_, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, "this is not a cloud event");
  EXPECT_EQ(dead[0].key, "aggregate-1");
  EXPECT_THAT(std::string(dead[0].header(kDeadLetterReasonHeader).value_or("")),
              HasSubstr("no ce_specversion header"));
  EXPECT_EQ(dead[0].header(kDeadLetterTopicHeader), topic_);
  EXPECT_EQ(dead[0].header(kDeadLetterOffsetHeader), "0");
  EXPECT_EQ(dead[0].header(kDeadLetterHandlerHeader), "test.handler");
}

TEST_F(ConsumerTest, PermanentHandlerFailureIsDeadLetteredWithTheStatus) {
  Publish("poison");
  Publish("fine");
  Seen handled;
  auto consumer = StartConsumer([&](const ConsumedEvent& c) {
    if (c.event.id == "poison") return absl::InvalidArgumentError("title: is required");
    handled.Add(c.event.id);
    return absl::OkStatus();
  });
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  std::vector<Record> dead = testing::ReadTopic(servers_, dlq_, 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].header("ce_id"), "poison");
  EXPECT_EQ(dead[0].header(kDeadLetterReasonHeader), "INVALID_ARGUMENT: title: is required");
}

// Bytes that do not compress: what a large binary payload looks like.
std::string Incompressible(size_t size) {
  std::string bytes;
  bytes.reserve(size + 64);
  while (bytes.size() < size) bytes += NewRandomId();
  bytes.resize(size);
  return bytes;
}

class LargeRecordTest : public ConsumerTest {
 protected:
  // A producer like an outside client's: lz4, with a client limit above
  // the 2 MiB the tests send.
  void SendLarge(const std::string& topic, const std::string& value) {
    auto producer = Producer::Create(
        {.bootstrap_servers = servers_,
         .properties = {{"compression.type", "lz4"}, {"message.max.bytes", "8388608"}}});
    ASSERT_TRUE(producer.ok()) << producer.status();
    ASSERT_TRUE((*producer)
                    ->SendAndWait(Record{.topic = topic, .key = "aggregate-1", .value = value})
                    .ok());
  }
  void UseTopics(const std::map<std::string, std::string>& source,
                 const std::map<std::string, std::string>& dead_letters) {
    auto topic = testing::CreateUniqueTopic(servers_, "large", 1, source);
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = *topic;
    auto dlq = testing::CreateUniqueTopic(servers_, "large-dlq", 1, dead_letters);
    ASSERT_TRUE(dlq.ok()) << dlq.status();
    dlq_ = *dlq;
  }
};

TEST_F(LargeRecordTest, CompressedRecordTooLargeWhenInflatedIsDeadLetteredWhole) {
  UseTopics({}, {});
  // 2 MiB that lz4 shrinks far below the broker's 1 MiB record limit.
  const std::string big(2 * 1024 * 1024, 'x');
  SendLarge(topic_, big);
  Publish("after");
  Seen handled;
  auto consumer = StartRecording(handled);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  EXPECT_THAT(handled.ids(), ElementsAre("after"));
  std::vector<Record> dead = testing::ReadAll(servers_, dlq_);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, big);
  EXPECT_FALSE(dead[0].header(kDeadLetterTruncatedHeader).has_value());
}

TEST_F(LargeRecordTest, RecordTheDeadLetterTopicCannotHoldKeepsTheStartOfItsValue) {
  // The source topic allows 4 MiB records, the dead-letter topic the
  // default 1 MiB, and the value does not compress.
  UseTopics({{"max.message.bytes", "4194304"}}, {});
  const std::string big = Incompressible(2 * 1024 * 1024);
  SendLarge(topic_, big);
  Publish("after");
  Seen handled;
  auto consumer = StartRecording(handled);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  std::vector<Record> dead = testing::ReadAll(servers_, dlq_);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].value, big.substr(0, kDeadLetterKeptValueBytes));
  EXPECT_EQ(dead[0].header(kDeadLetterTruncatedHeader), "value of 2097152 bytes, first 65536 kept");
  EXPECT_EQ(dead[0].header(kDeadLetterOffsetHeader), "0");
  EXPECT_THAT(std::string(dead[0].header(kDeadLetterReasonHeader).value_or("")),
              HasSubstr("no ce_specversion header"));
}

TEST_F(LargeRecordTest, RecordTheDeadLetterTopicKeepsRefusingIsParkedAndConsumingGoesOn) {
  // Even the kept start of the value is over this dead-letter topic's limit.
  UseTopics({{"max.message.bytes", "4194304"}}, {{"max.message.bytes", "1024"}});
  SendLarge(topic_, Incompressible(2 * 1024 * 1024));
  Publish("after");
  metrics::Metrics metrics;
  Seen handled;
  auto consumer = StartRecording(handled, &metrics);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  EXPECT_THAT(handled.ids(), ElementsAre("after"));
  EXPECT_THAT(
      metrics.Render(),
      HasSubstr(
          R"(flywheel_kafka_handled_events_total{handler="test.handler",outcome="parked"} 1)"));
  EXPECT_TRUE(testing::ReadAll(servers_, dlq_).empty());
}

TEST_F(ConsumerTest, RetryableFailureIsRetriedUntilItSucceeds) {
  Publish("flaky");
  metrics::Metrics metrics;
  std::atomic<int> attempts{0};
  Seen handled;
  auto consumer = StartConsumer(
      [&](const ConsumedEvent& c) {
        if (++attempts < 3) return absl::UnavailableError("redis is restarting");
        handled.Add(c.event.id);
        return absl::OkStatus();
      },
      &metrics);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  EXPECT_EQ(attempts.load(), 3);
  const std::string text = metrics.Render();
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(flywheel_kafka_handled_events_total{handler="test.handler",outcome="retried"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(flywheel_kafka_handled_events_total{handler="test.handler",outcome="ok"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(flywheel_kafka_event_age_seconds_count{handler="test.handler"} 1)"));
}

TEST_F(ConsumerTest, StoppingWhileRetryingLeavesTheEventForTheNextMember) {
  Publish("stuck");
  std::atomic<int> attempts{0};
  auto failing = StartConsumer([&](const ConsumedEvent&) {
    ++attempts;
    return absl::UnavailableError("downstream unavailable");
  });
  ASSERT_TRUE(WaitFor([&] { return attempts.load() >= 1; }));
  failing->Stop();

  Seen handled;
  auto next = StartRecording(handled);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 1; }));
  EXPECT_THAT(handled.ids(), ElementsAre("stuck"));
}

TEST_F(ConsumerTest, SecondMemberTakesOverPartitionsWithoutLosingEvents) {
  Seen seen;
  auto handler = [&](const ConsumedEvent& c) {
    seen.Add(c.event.id);
    return absl::OkStatus();
  };
  auto first = StartConsumer(handler);
  ASSERT_TRUE(WaitFor([&] { return first->HasAssignment(); }));
  // Spread events over the three partitions with distinct keys.
  auto publish_batch = [&](const std::string& prefix) {
    for (int i = 0; i < 30; ++i) {
      CloudEvent event{.id = prefix + std::to_string(i),
                       .source = "//tests",
                       .type = "dev.flywheel.test.v1",
                       .key = "aggregate-" + std::to_string(i)};
      ASSERT_TRUE(producer_->SendAndWait(*EncodeBinary(event, topic_)).ok());
    }
  };
  publish_batch("before-");
  ASSERT_TRUE(WaitFor([&] { return seen.size() >= 30; }));

  auto second = StartConsumer(handler);
  // Both members end up holding partitions, and nothing published before,
  // during or after the rebalance is lost.
  ASSERT_TRUE(WaitFor([&] { return second->HasAssignment() && first->HasAssignment(); }));
  publish_batch("after-");
  ASSERT_TRUE(WaitFor([&] {
    std::set<std::string> unique;
    for (const auto& id : seen.ids()) unique.insert(id);
    return unique.size() == 60;
  })) << seen.size();
}

TEST_F(ConsumerTest, PartitionsAreHandledInParallel) {
  // The record on partition 0 is only let through once the one on
  // partition 1 was handled: one lane for both would wait out the deadline.
  std::atomic<bool> free_done{false};
  std::atomic<bool> blocker_saw_free{false};
  Seen handled;
  auto consumer = StartConsumer([&](const ConsumedEvent& c) {
    if (c.event.id == "blocker") {
      blocker_saw_free = WaitFor([&] { return free_done.load(); }, absl::Seconds(20));
    } else {
      free_done = true;
    }
    handled.Add(c.event.id);
    return absl::OkStatus();
  });
  for (auto [id, partition] : {std::pair{"blocker", 0}, std::pair{"free", 1}}) {
    CloudEvent event{.id = id, .source = "//tests", .type = "dev.flywheel.test.v1", .key = id};
    Record record = *EncodeBinary(event, topic_);
    record.partition = partition;
    ASSERT_TRUE(producer_->SendAndWait(record).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 2; }));
  EXPECT_TRUE(blocker_saw_free.load());
}

TEST_F(ConsumerTest, ConsumerLagIsExported) {
  for (int i = 0; i < 3; ++i) Publish("lag" + std::to_string(i));
  metrics::Metrics metrics;
  Seen handled;
  auto consumer = StartRecording(handled, &metrics);
  ASSERT_TRUE(WaitFor([&] { return handled.size() == 3; }));
  const std::string expected =
      "flywheel_kafka_consumer_lag_messages{group=\"" + group_ + "\",partition=";
  EXPECT_TRUE(WaitFor([&] { return metrics.Render().find(expected) != std::string::npos; }))
      << metrics.Render();
}

// The value of the sample that starts `series` (name and labels) in a text
// exposition.
std::optional<double> SampleValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST_F(ConsumerTest, EventStampedInTheFutureCountsAsSkewAndAgesFromItsRecord) {
  // A producer whose clock is a day ahead: ce_time says tomorrow, while the
  // record's own timestamp, stamped by librdkafka here, says now.
  CloudEvent event{.id = "tomorrow",
                   .source = "//tests",
                   .type = "dev.flywheel.test.v1",
                   .time = absl::Now() + absl::Hours(24),
                   .key = "aggregate-1"};
  ASSERT_TRUE(producer_->SendAndWait(*EncodeBinary(event, topic_)).ok());
  metrics::Metrics metrics;
  auto consumer = StartConsumer([](const ConsumedEvent&) { return absl::OkStatus(); }, &metrics);
  // The age is recorded after the handler returns: wait for it, not for the
  // handler.
  const std::string count = R"(flywheel_kafka_event_age_seconds_count{handler="test.handler"} 1)";
  ASSERT_TRUE(WaitFor([&] { return metrics.Render().find(count) != std::string::npos; }))
      << metrics.Render();
  const std::string text = metrics.Render();
  EXPECT_THAT(text,
              HasSubstr(R"(flywheel_kafka_event_clock_skew_total{handler="test.handler"} 1)"));
  const std::optional<double> sum =
      SampleValue(text, R"(flywheel_kafka_event_age_seconds_sum{handler="test.handler"})");
  ASSERT_TRUE(sum.has_value()) << text;
  EXPECT_GE(*sum, 0);   // not -86,400
  EXPECT_LT(*sum, 60);  // from the record's timestamp: produced moments ago
  const std::optional<double> ahead =
      SampleValue(text, R"(flywheel_kafka_event_clock_skew_seconds_sum{handler="test.handler"})");
  ASSERT_TRUE(ahead.has_value()) << text;
  EXPECT_NEAR(*ahead, 86400, 60);
}

}  // namespace
}  // namespace flywheel::kafka
