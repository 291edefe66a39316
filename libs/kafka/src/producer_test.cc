#include "flywheel/kafka/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

#include "flywheel/kafka/event_publisher.h"
#include "flywheel/kafka/testing/kafka_test_env.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::kafka {
namespace {

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto servers = testing::BootstrapServers();
    ASSERT_TRUE(servers.ok()) << servers.status();
    servers_ = *servers;
    auto topic = testing::CreateUniqueTopic(servers_, "producer");
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = *topic;
  }

  std::string servers_;
  std::string topic_;
};

TEST_F(ProducerTest, AcknowledgedRecordsAreReadBackWithKeysAndHeaders) {
  metrics::Metrics metrics;
  auto producer = Producer::Create({.bootstrap_servers = servers_}, &metrics);
  ASSERT_TRUE(producer.ok()) << producer.status();

  for (int i = 0; i < 10; ++i) {
    Record record{.topic = topic_,
                  .key = "key-" + std::to_string(i % 3),
                  .value = "value-" + std::to_string(i),
                  .headers = {{"h", std::to_string(i)}}};
    auto written = (*producer)->SendAndWait(record);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_GE(written->offset, 0);
    EXPECT_GE(written->partition, 0);
  }

  // A plain record is not a CloudEvent, so read raw.
  std::vector<Record> records = testing::ReadTopic(servers_, topic_, 10);
  ASSERT_EQ(records.size(), 10u);
  std::set<std::string> values;
  std::map<std::string, int32_t> partition_of_key;
  for (const Record& r : records) {
    values.insert(r.value);
    EXPECT_EQ(r.header("h"), r.value.substr(6));
    // One key always lands on one partition: per-aggregate ordering.
    auto [it, inserted] = partition_of_key.emplace(r.key, r.partition);
    EXPECT_EQ(it->second, r.partition) << r.key;
  }
  EXPECT_EQ(values.size(), 10u);
  EXPECT_NE(metrics.Render().find("flywheel_kafka_produced_records_total{result=\"ok\",topic=\"" +
                                  topic_ + "\"} 10"),
            std::string::npos);
}

TEST_F(ProducerTest, AsynchronousSendsAllReportDelivery) {
  auto producer = Producer::Create({.bootstrap_servers = servers_});
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::atomic<int> delivered{0};
  std::atomic<int> failed{0};
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) {
    (*producer)->Send(
        Record{.topic = topic_, .key = std::to_string(i), .value = "v"},
        [&](const absl::Status& status, const Record&) { (status.ok() ? delivered : failed)++; });
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());
  EXPECT_EQ(delivered.load(), kCount);
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(ProducerTest, PrepareLearnsATopicAndNamesOneTheBrokerDoesNotHave) {
  auto producer = Producer::Create({.bootstrap_servers = servers_});
  ASSERT_TRUE(producer.ok()) << producer.status();
  absl::Status prepared = (*producer)->Prepare({topic_}, std::chrono::seconds(10));
  EXPECT_TRUE(prepared.ok()) << prepared;
  const std::string missing = topic_ + ".missing";
  absl::Status refused = (*producer)->Prepare({topic_, missing}, std::chrono::seconds(10));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("'" + missing + "'"), std::string::npos) << refused;
  // The prepared topic takes records as before.
  auto sent = (*producer)->SendAndWait(Record{.topic = topic_, .key = "k", .value = "v"});
  EXPECT_TRUE(sent.ok()) << sent.status();
}

TEST_F(ProducerTest, RecordOverBrokerLimitIsRefusedWithReason) {
  auto producer = Producer::Create({.bootstrap_servers = servers_});
  ASSERT_TRUE(producer.ok()) << producer.status();
  // librdkafka's own message.max.bytes default is 1,000,000 bytes.
  auto written =
      (*producer)->SendAndWait(Record{.topic = topic_, .value = std::string(2'000'000, 'x')});
  EXPECT_EQ(written.status().code(), absl::StatusCode::kInvalidArgument) << written.status();
}

TEST_F(ProducerTest, AnAsynchronousPublishReportsOnceWhenEveryEventIsAcknowledged) {
  auto producer = Producer::Create({.bootstrap_servers = servers_});
  ASSERT_TRUE(producer.ok()) << producer.status();
  KafkaEventPublisher publisher(**producer, "//flywheel/test");
  std::vector<OutgoingEvent> events;
  for (int i = 0; i < 3; ++i) {
    events.push_back({.topic = topic_,
                      .type = "t",
                      .key = "k",
                      .data = std::to_string(i),
                      .id = "evt_" + std::to_string(i)});
  }
  std::promise<absl::StatusOr<std::vector<std::string>>> reported;
  std::atomic<int> calls{0};
  publisher.PublishAsync(events, [&](absl::StatusOr<std::vector<std::string>> ids) {
    if (++calls == 1) reported.set_value(std::move(ids));
  });
  auto future = reported.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  absl::StatusOr<std::vector<std::string>> ids = future.get();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<std::string>{"evt_0", "evt_1", "evt_2"}));
  // Acknowledged means written: all three are on the topic, in order.
  std::vector<Record> records = testing::ReadTopic(servers_, topic_, 3);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(records[i].header("ce_id"), "evt_" + std::to_string(i));
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(5)).ok());
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(ProducerTest, AnAsynchronousPublishReportsTheFailureOfAnyOfItsEvents) {
  auto producer = Producer::Create({.bootstrap_servers = servers_});
  ASSERT_TRUE(producer.ok()) << producer.status();
  KafkaEventPublisher publisher(**producer, "//flywheel/test");
  std::vector<OutgoingEvent> events = {
      {.topic = topic_, .type = "t", .key = "k", .data = "fits"},
      {.topic = topic_, .type = "t", .key = "k", .data = std::string(2'000'000, 'x')}};
  std::promise<absl::Status> reported;
  publisher.PublishAsync(events, [&](absl::StatusOr<std::vector<std::string>> ids) {
    reported.set_value(ids.status());
  });
  auto future = reported.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(future.get().code(), absl::StatusCode::kInvalidArgument)
      << "the one too large for the broker fails the whole publish";
}

TEST(ProducerOptionsTest, EmptyBootstrapIsInvalid) {
  EXPECT_EQ(Producer::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flywheel::kafka
