#include "flywheel/kafka/consumer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "flywheel/core/id.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/admin.h"
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

  // Publishes a CloudEvent with id `id` under key `key`; returns the
  // partition the key chose (the producer does not pin partitions).
  int32_t PublishKeyed(const std::string& id, const std::string& key) {
    CloudEvent event{.id = id, .source = "//tests", .type = "dev.flywheel.test.v1", .key = key};
    auto written = producer_->SendAndWait(*EncodeBinary(event, topic_));
    EXPECT_TRUE(written.ok()) << written.status();
    return written.ok() ? written->partition : -1;
  }

  // The partition holding `count` records: where Publish put them.
  int32_t PartitionHolding(int64_t count) {
    auto counts = RecordCounts(servers_, topic_);
    EXPECT_TRUE(counts.ok()) << counts.status();
    if (!counts.ok()) return -1;
    for (const auto& [partition, n] : *counts) {
      if (n == count) return partition;
    }
    return -1;
  }

  // The offset the group has committed on `partition`; -1 when none.
  int64_t Committed(int32_t partition) {
    auto committed = CommittedOffsets(servers_, group_, topic_);
    EXPECT_TRUE(committed.ok()) << committed.status();
    if (!committed.ok() || !committed->contains(partition)) return -1;
    return committed->at(partition);
  }

  void PublishRaw(const std::string& value) {
    ASSERT_TRUE(
        producer_->SendAndWait(Record{.topic = topic_, .key = "aggregate-1", .value = value}).ok());
  }

  ConsumerOptions Options() const {
    return {.bootstrap_servers = servers_,
            .group_id = group_,
            .topics = {topic_},
            .dead_letter_topic = dlq_,
            .handler_name = "test.handler",
            .stats_interval = std::chrono::milliseconds(200),
            .retry_initial = std::chrono::milliseconds(20),
            .retry_max = std::chrono::milliseconds(100)};
  }

  // Starts a consumer with `handler` (per event or per batch).
  template <typename Handler>
  std::unique_ptr<Consumer> Start(Handler handler, metrics::Metrics* metrics,
                                  const ConsumerOptions& options) {
    auto consumer = Consumer::Create(options, std::move(handler), metrics);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    if (!consumer.ok()) return nullptr;
    EXPECT_TRUE((*consumer)->Start().ok());
    return *std::move(consumer);
  }

  std::unique_ptr<Consumer> StartConsumer(EventHandler handler,
                                          metrics::Metrics* metrics = nullptr) {
    return Start(std::move(handler), metrics, Options());
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
  for (const char* id : {"blocker", "free"}) {
    CloudEvent event{.id = id, .source = "//tests", .type = "dev.flywheel.test.v1", .key = id};
    Record record = *EncodeBinary(event, topic_);
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

std::vector<std::string> Ids(const std::string& prefix, int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

TEST_F(ConsumerTest, NoCommittedOffsetPassesAnEventWhoseEffectFailed) {
  for (const std::string& id : Ids("e", 0, 8)) Publish(id);
  const int32_t partition = PartitionHolding(8);
  Seen done;
  std::atomic<int> failures{0};
  // A batch handler whose effect for e2 keeps failing while the rest work.
  auto consumer = Start(
      [&](EventBatch batch, BatchDone complete) {
        std::vector<absl::Status> statuses;
        for (const ConsumedEvent& c : batch.events) {
          if (c.event.id == "e2") {
            ++failures;
            statuses.push_back(absl::UnavailableError("redis is restarting"));
          } else {
            done.Add(c.event.id);
            statuses.push_back(absl::OkStatus());
          }
        }
        complete(std::move(statuses));
      },
      nullptr, Options());
  ASSERT_TRUE(WaitFor([&] { return done.size() == 7 && failures.load() >= 2; }))
      << done.size() << " done, " << failures.load() << " failures";
  consumer->Stop();  // commits what was stored

  // e3..e7 are done, but the offset stops at e2's.
  EXPECT_EQ(Committed(partition), 2);
  Seen replayed;
  auto next = StartRecording(replayed);
  ASSERT_TRUE(WaitFor([&] { return replayed.size() == 6; })) << replayed.size();
  EXPECT_EQ(replayed.ids(), Ids("e", 2, 8));
}

TEST_F(ConsumerTest, ConsumerKilledMidWindowReplaysOnlyTheUnfinishedWork) {
  for (const std::string& id : Ids("e", 0, 10)) Publish(id);
  const int32_t partition = PartitionHolding(10);
  // The child finishes e0..e4 and holds the batch from e5 in flight when
  // it is killed: a crash, with no revoke, no commit, no goodbye.
  const std::string marker = ::testing::TempDir() + "/window-member-" + group_;
  std::filesystem::remove(marker);
  std::vector<std::string> args = {
      FLYWHEEL_KAFKA_WINDOW_MEMBER, servers_, topic_, dlq_, group_, "5", marker};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  const bool in_flight =
      WaitFor([&] { return std::filesystem::exists(marker) && Committed(partition) == 5; });
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(in_flight) << "the child never held e5 with e0..e4 committed";

  // The same static member comes back, as a restarted pod would.
  Seen replayed;
  ConsumerOptions options = Options();
  options.group_instance_id = "window-member";
  auto next = Start(
      [&](const ConsumedEvent& c) {
        replayed.Add(c.event.id);
        return absl::OkStatus();
      },
      nullptr, options);
  ASSERT_TRUE(WaitFor([&] { return replayed.size() >= 5; })) << replayed.size();
  EXPECT_EQ(replayed.ids(), Ids("e", 5, 10));
}

TEST_F(ConsumerTest, FullWindowPausesOnlyItsPartition) {
  // Twenty events on one partition, which the handler never completes until
  // told to: its window (4) fills and the partition is paused.
  std::atomic<int32_t> stuck{-1};
  for (const std::string& id : Ids("slow", 0, 20)) stuck = PublishKeyed(id, "slow");
  ConsumerOptions options = Options();
  options.max_in_flight_events = 4;
  options.max_batch_events = 2;
  // The least the broker allows: a poll loop that waited for the stuck
  // partition would make librdkafka leave the group after 6 s.
  options.properties = {{"session.timeout.ms", "6000"}, {"max.poll.interval.ms", "6000"}};
  metrics::Metrics metrics;
  std::mutex mu;
  std::vector<std::pair<BatchDone, size_t>> held;  // the stuck partition's batches
  Seen slow;
  Seen fast;
  auto consumer = Start(
      [&](EventBatch batch, BatchDone done) {
        if (batch.partition == stuck.load()) {
          for (const ConsumedEvent& c : batch.events) slow.Add(c.event.id);
          std::lock_guard lock(mu);
          held.emplace_back(std::move(done), batch.events.size());
          return;
        }
        for (const ConsumedEvent& c : batch.events) fast.Add(c.event.id);
        done(std::vector<absl::Status>(batch.events.size()));
      },
      &metrics, options);
  const std::string paused = "flywheel_kafka_consumer_paused_partitions{group=\"" + group_ + "\"}";
  ASSERT_TRUE(WaitFor([&] { return SampleValue(metrics.Render(), paused) == 1; }))
      << metrics.Render();

  // Events on the other partitions keep flowing.
  auto publish_elsewhere = [&](const std::string& prefix, int count) {
    size_t elsewhere = 0;
    for (const std::string& id : Ids(prefix, 0, count)) {
      if (PublishKeyed(id, id) != stuck.load()) ++elsewhere;
    }
    return elsewhere;
  };
  const size_t before = publish_elsewhere("fast", 10);
  ASSERT_GT(before, 0u);
  ASSERT_TRUE(WaitFor([&] { return fast.size() == before; })) << fast.size();
  // Sit on the full window past max.poll.interval.ms: the time passing is
  // what is tested, so this waits on the clock.
  absl::SleepFor(absl::Seconds(7));
  const size_t after = publish_elsewhere("late", 6);
  ASSERT_GT(after, 0u);
  ASSERT_TRUE(WaitFor([&] { return fast.size() == before + after; }));
  EXPECT_TRUE(consumer->HasAssignment());
  // Only the stuck partition's first batch reached the handler: it was
  // never revoked and handed over again, and nothing past its window was
  // taken in. The batch is what had arrived when its lane took it: one or
  // two events (max_batch_events).
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(held.size(), 1u) << "one batch of a partition in the handler at a time";
  }
  const std::vector<std::string> first_batch = slow.ids();
  ASSERT_GE(first_batch.size(), 1u);
  ASSERT_LE(first_batch.size(), 2u);
  EXPECT_EQ(first_batch, Ids("slow", 0, static_cast<int>(first_batch.size())));
  // Its window holds 4 (5 when a record was already handed over as it
  // paused); the other partitions' windows empty out.
  const std::string in_flight =
      "flywheel_kafka_consumer_in_flight_events{group=\"" + group_ + "\"}";
  EXPECT_TRUE(WaitFor([&] {
    const std::optional<double> events = SampleValue(metrics.Render(), in_flight);
    return events && *events >= 4 && *events <= 5;
  })) << metrics.Render();

  // Complete the held batches from this thread, as an asynchronous handler
  // would: the partition resumes and drains in order.
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    for (auto& [done, size] : held) done(std::vector<absl::Status>(size));
    held.clear();
    return slow.size() == 20;
  })) << slow.size();
  EXPECT_EQ(slow.ids(), Ids("slow", 0, 20));
  EXPECT_TRUE(WaitFor([&] { return SampleValue(metrics.Render(), paused) == 0; }));
}

}  // namespace
}  // namespace flywheel::kafka
