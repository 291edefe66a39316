// The outbox against a real redis-server, and the contract that holds the
// in-memory fake (used by the fake stores of services) to the same
// behaviour.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "flywheel/async/io_threads.h"
#include "flywheel/async/spawn.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/kafka/testing/recording_publisher.h"
#include "flywheel/metrics/metrics.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/outbox/testing/in_memory_outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/pool.h"
#include "flywheel/redis/script_registry.h"
#include "flywheel/redis/testing/redis_test_env.h"

namespace flywheel::outbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

kafka::OutgoingEvent Event(const std::string& key, const std::string& type) {
  return {.topic = "t.requests", .type = type, .key = key, .data = "payload-" + type};
}

// The outbox under test, and how the test calls it: the synchronous methods,
// or the coroutine ones (Prepared, Published, Drained) on an io thread.
enum class Subjects { kInMemory, kRedis, kRedisAwaited };

std::vector<std::string> Types(const std::vector<kafka::OutgoingEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

// What a contract test needs of an implementation: the outbox, and the two
// things a service store does inside its own atomic step.
class Subject {
 public:
  virtual ~Subject() = default;
  virtual Outbox& outbox() = 0;
  virtual void Store(const std::string& tag, std::vector<kafka::OutgoingEvent>& events) = 0;
  virtual bool Busy(const std::string& tag, const std::string& key) = 0;
};

class FakeSubject final : public Subject {
 public:
  explicit FakeSubject(kafka::EventPublisher& publisher) : fake_(publisher) {}
  Outbox& outbox() override { return fake_; }
  void Store(const std::string& tag, std::vector<kafka::OutgoingEvent>& events) override {
    fake_.Store(tag, events);
  }
  bool Busy(const std::string& tag, const std::string& key) override {
    return fake_.Busy(tag, key);
  }

 private:
  testing::InMemoryOutbox fake_;
};

// A stand-in for a service's state script: stores only the events.
constexpr char kStoreScript[] = "flywheel_outbox_put()\nreturn 1\n";
constexpr char kBusyScript[] = "if flywheel_outbox_busy(ARGV[1]) then return 1 end\nreturn 0\n";

class RedisSubject final : public Subject {
 public:
  RedisSubject(redis::Pool& pool, kafka::EventPublisher& publisher, const std::string& prefix,
               metrics::Metrics& metrics, const Clock& clock, redis::AsyncClient* async,
               asio::io_context* io)
      : pool_(pool),
        io_(io),
        outbox_(pool, publisher, {.key_prefix = prefix}, metrics, clock, async) {
    EXPECT_TRUE(scripts_.Register("store", std::string(RedisOutbox::kLua) + kStoreScript).ok());
    EXPECT_TRUE(scripts_.Register("busy", std::string(RedisOutbox::kLua) + kBusyScript).ok());
  }
  Outbox& outbox() override { return outbox_; }
  RedisOutbox& redis_outbox() { return outbox_; }
  void Store(const std::string& tag, std::vector<kafka::OutgoingEvent>& events) override {
    auto args = io_ != nullptr ? async::BlockOn(*io_, outbox_.Prepared(tag, events))
                               : outbox_.ForScript(tag, events);
    ASSERT_TRUE(args.ok()) << args.status();
    auto conn = pool_.Acquire(absl::Seconds(2));
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto reply = scripts_.Eval(**conn, "store", args->keys, args->args);
    ASSERT_TRUE(reply.ok()) << reply.status();
  }
  bool Busy(const std::string& tag, const std::string& key) override {
    std::vector<kafka::OutgoingEvent> none;
    auto args = outbox_.ForScript(tag, none);
    EXPECT_TRUE(args.ok()) << args.status();
    auto conn = pool_.Acquire(absl::Seconds(2));
    EXPECT_TRUE(conn.ok()) << conn.status();
    auto reply = scripts_.Eval(**conn, "busy", args->keys, {key});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() && reply->integer() == 1;
  }

 private:
  redis::Pool& pool_;
  asio::io_context* const io_;  // set when the test awaits the outbox
  RedisOutbox outbox_;
  redis::ScriptRegistry scripts_;
};

class OutboxTest : public redis::RedisTestEnv, public ::testing::WithParamInterface<Subjects> {
 protected:
  void SetUp() override {
    RedisTestEnv::SetUp();
    if (HasFatalFailure()) return;
    auto pool = redis::Pool::Create({.connection = options(), .capacity = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    awaited_ = GetParam() == Subjects::kRedisAwaited;
    if (awaited_) {
      auto async = redis::AsyncClient::Create(io_.context(), {.connection = options()});
      ASSERT_TRUE(async.ok()) << async.status();
      async_ = *std::move(async);
    }
    if (GetParam() != Subjects::kInMemory) {
      redis_ = std::make_unique<RedisSubject>(*pool_, publisher_, prefix(), metrics_, clock_,
                                              async_.get(), awaited_ ? &io_.context() : nullptr);
      subject_ = redis_.get();
    } else {
      fake_ = std::make_unique<FakeSubject>(publisher_);
      subject_ = fake_.get();
    }
  }

  void TearDown() override {
    io_.Stop();
    async_.reset();
    redis::RedisTestEnv::TearDown();
  }

  absl::Status Publish(const std::string& tag, const std::vector<kafka::OutgoingEvent>& events) {
    if (awaited_) return async::BlockOn(io_.context(), subject_->outbox().Published(tag, events));
    return subject_->outbox().Publish(tag, events);
  }
  absl::Status Drain(const std::string& tag) {
    if (awaited_) return async::BlockOn(io_.context(), subject_->outbox().Drained(tag));
    return subject_->outbox().Drain(tag);
  }

  // Stores `events` as one change and returns them with their ids.
  std::vector<kafka::OutgoingEvent> Store(std::vector<kafka::OutgoingEvent> events,
                                          const std::string& tag = "acme") {
    subject_->Store(tag, events);
    return events;
  }

  async::IoThreads io_{1};
  std::unique_ptr<redis::AsyncClient> async_;
  bool awaited_ = false;
  FakeClock clock_;
  metrics::Metrics metrics_;
  kafka::testing::RecordingPublisher publisher_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<RedisSubject> redis_;
  std::unique_ptr<FakeSubject> fake_;
  Subject* subject_ = nullptr;
};

TEST_P(OutboxTest, StoredEventsGetIdsAndArePublishedInOrderOnce) {
  auto events = Store({Event("req_1", "submitted"), Event("req_1", "noted")});
  ASSERT_FALSE(events[0].id.empty());
  EXPECT_NE(events[0].id, events[1].id);
  EXPECT_TRUE(subject_->Busy("acme", "req_1"));

  ASSERT_TRUE(Publish("acme", events).ok());
  EXPECT_THAT(Types(publisher_.published()), ElementsAre("submitted", "noted"));
  EXPECT_EQ(publisher_.published()[0].id, events[0].id);
  EXPECT_FALSE(subject_->Busy("acme", "req_1"));
  // Nothing is left to drain.
  ASSERT_TRUE(Drain("acme").ok());
  EXPECT_EQ(publisher_.size(), 2u);
}

TEST_P(OutboxTest, WhatTheBrokerRefusedStaysAndDrainsOldestFirstUnderTheSameIds) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  auto first = Store({Event("req_1", "submitted")});
  absl::Status published = Publish("acme", first);
  EXPECT_EQ(published.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(subject_->Busy("acme", "req_1"));
  EXPECT_FALSE(subject_->Busy("acme", "req_2"));
  EXPECT_FALSE(subject_->Busy("globex", "req_1"));
  clock_.Advance(absl::Milliseconds(5));
  auto second = Store({Event("req_2", "submitted"), Event("req_2", "updated")});
  EXPECT_EQ(Drain("acme").code(), absl::StatusCode::kUnavailable);

  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(Drain("acme").ok());
  const auto out = publisher_.published();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, first[0].id);
  EXPECT_EQ(out[1].id, second[0].id);
  EXPECT_EQ(out[2].id, second[1].id);
  EXPECT_EQ(out[2].data, "payload-updated");
  EXPECT_EQ(out[0].time, first[0].time) << "ce_time is when it was stored, not when relayed";
  EXPECT_FALSE(subject_->Busy("acme", "req_1"));
  EXPECT_FALSE(subject_->Busy("acme", "req_2"));
}

TEST_P(OutboxTest, StoringTheSameEventTwiceKeepsOne) {
  auto events = Store({Event("req_1", "submitted")});
  Store(events);  // a retried change with the event id derived from its cause
  ASSERT_TRUE(Drain("acme").ok());
  EXPECT_EQ(publisher_.size(), 1u);
  EXPECT_FALSE(subject_->Busy("acme", "req_1"));
}

INSTANTIATE_TEST_SUITE_P(FakeAndRedis, OutboxTest,
                         ::testing::Values(Subjects::kInMemory, Subjects::kRedis,
                                           Subjects::kRedisAwaited),
                         [](const auto& info) {
                           switch (info.param) {
                             case Subjects::kInMemory:
                               return "InMemory";
                             case Subjects::kRedis:
                               return "Redis";
                             case Subjects::kRedisAwaited:
                               return "RedisAwaited";
                           }
                           return "unknown";
                         });

// What only the Redis outbox does: the relay.
class RelayTest : public OutboxTest {};

TEST_P(RelayTest, RelayPublishesOnlyWhatIsOlderThanTheGrace) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  auto events = Store({Event("req_1", "submitted")});
  (void)Publish("acme", events);
  publisher_.FailWith(absl::OkStatus());

  clock_.Advance(absl::Seconds(1));
  auto young = redis_->redis_outbox().RelayOnce();
  ASSERT_TRUE(young.ok()) << young.status();
  EXPECT_EQ(young->relayed, 0);
  EXPECT_EQ(publisher_.size(), 0u) << "the call that stored it may still be publishing it";

  clock_.Advance(absl::Seconds(20));
  auto old = redis_->redis_outbox().RelayOnce();
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->relayed, 1);
  ASSERT_EQ(publisher_.size(), 1u);
  EXPECT_EQ(publisher_.published()[0].id, events[0].id);
  EXPECT_FALSE(subject_->Busy("acme", "req_1"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("flywheel_outbox_relayed_events_total 1"));
}

TEST_P(RelayTest, RelayCountsWhatTheBrokerStillRefusesAndHowOldItIs) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  Store({Event("req_1", "submitted"), Event("req_1", "updated")});
  Store({Event("req_9", "submitted")}, "globex");
  clock_.Advance(absl::Seconds(40));
  auto pass = redis_->redis_outbox().RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 0);
  EXPECT_EQ(pass->left, 3);
  EXPECT_EQ(pass->oldest, absl::Seconds(40));
  const std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("flywheel_outbox_pending_events 3"));
  EXPECT_THAT(text, HasSubstr("flywheel_outbox_oldest_event_age_seconds 40"));
}

TEST_P(RelayTest, ATagAnotherReplicaIsRelayingIsLeftToIt) {
  publisher_.FailWith(absl::UnavailableError("broker down"));
  Store({Event("req_1", "submitted")});
  publisher_.FailWith(absl::OkStatus());
  ASSERT_TRUE(
      admin().Command({"SET", prefix() + "outbox:{acme}:lease", "other", "PX", "60000"}).ok());
  clock_.Advance(absl::Seconds(40));
  auto pass = redis_->redis_outbox().RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 0);
  EXPECT_EQ(publisher_.size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Redis, RelayTest, ::testing::Values(Subjects::kRedis),
                         [](const auto&) { return "Redis"; });

// The relay beside publishes still waiting for the broker's ack, as a
// consumer sees it: every event once.
class RelayBesidePublishesTest : public OutboxTest {
 protected:
  void SetUp() override {
    OutboxTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(scripts_.Register("store", std::string(RedisOutbox::kLua) + kStoreScript).ok());
  }
  void TearDown() override {
    publisher_.ReleaseAcks();  // a failed test must not leave a publish waiting
    OutboxTest::TearDown();
  }

  // Another outbox on the same keys: another process, or other options.
  std::unique_ptr<RedisOutbox> NewOutbox(RedisOutboxOptions options) {
    options.key_prefix = prefix();
    other_metrics_.push_back(std::make_unique<metrics::Metrics>());
    return std::make_unique<RedisOutbox>(*pool_, publisher_, std::move(options),
                                         *other_metrics_.back(), clock_, async_.get());
  }

  // Stores `events` as one change through `outbox`; returns them with ids.
  std::vector<kafka::OutgoingEvent> StoreWith(RedisOutbox& outbox,
                                              std::vector<kafka::OutgoingEvent> events) {
    auto args = async::BlockOn(io_.context(), outbox.Prepared("acme", events));
    EXPECT_TRUE(args.ok()) << args.status();
    if (!args.ok()) return events;
    auto conn = pool_->Acquire(absl::Seconds(2));
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return events;
    auto reply = scripts_.Eval(**conn, "store", args->keys, args->args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    clock_.Advance(absl::Milliseconds(1));  // the next change sorts after this one
    return events;
  }

  // Starts `outbox.Published` on the io thread, as a service does after its
  // change; returns once the publisher has its events.
  std::future<absl::Status> StartPublishing(RedisOutbox& outbox,
                                            const std::vector<kafka::OutgoingEvent>& events) {
    const size_t before = publisher_.size();
    auto done = std::make_shared<std::promise<absl::Status>>();
    std::future<absl::Status> result = done->get_future();
    async::Spawn(io_.context(), outbox.Published("acme", events),
                 [done](absl::Status status) { done->set_value(std::move(status)); });
    EXPECT_TRUE(flywheel::testing::WaitFor(
        [&] { return publisher_.size() >= before + events.size(); }, absl::Seconds(5)))
        << "the publish never started";
    return result;
  }

  // The ids a consumer of the topic read, in order.
  std::vector<std::string> Read() const {
    std::vector<std::string> ids;
    for (const kafka::OutgoingEvent& event : publisher_.published()) ids.push_back(event.id);
    return ids;
  }

  redis::ScriptRegistry scripts_;
  std::vector<std::unique_ptr<metrics::Metrics>> other_metrics_;
};

TEST_P(RelayBesidePublishesTest, AnEventWhoseAckIsSlowIsReadOnce) {
  RedisOutbox& outbox = redis_->redis_outbox();
  auto events = Store({Event("lead_1", "qualified")});
  publisher_.HoldAcks();
  std::future<absl::Status> published = StartPublishing(outbox, events);

  // Far past the grace, and still no ack: the relay leaves it to its publish.
  clock_.Advance(absl::Seconds(40));
  auto pass = outbox.RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 0);
  EXPECT_EQ(pass->publishing, 1);
  EXPECT_THAT(Read(), ElementsAre(events[0].id))
      << "the relay republished an event whose first publish was not yet acknowledged";

  publisher_.ReleaseAcks();
  ASSERT_TRUE(published.get().ok());
  EXPECT_FALSE(subject_->Busy("acme", "lead_1"));
  clock_.Advance(absl::Seconds(40));
  pass = outbox.RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 0);
  EXPECT_THAT(Read(), ElementsAre(events[0].id));
}

TEST_P(RelayBesidePublishesTest, AnEventLeftByAProcessThatDiedIsRelayedOnce) {
  std::vector<kafka::OutgoingEvent> events;
  {
    // The other process stores the change and dies before it publishes.
    std::unique_ptr<RedisOutbox> dead = NewOutbox({});
    events = StoreWith(*dead, {Event("lead_1", "qualified")});
  }
  RedisOutbox& outbox = redis_->redis_outbox();
  clock_.Advance(absl::Seconds(1));
  auto young = outbox.RelayOnce();
  ASSERT_TRUE(young.ok()) << young.status();
  EXPECT_THAT(Read(), ::testing::IsEmpty()) << "its process may still be publishing it";

  clock_.Advance(absl::Seconds(40));
  auto old = outbox.RelayOnce();
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->relayed, 1);
  auto again = outbox.RelayOnce();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->relayed, 0);
  EXPECT_THAT(Read(), ElementsAre(events[0].id));
  EXPECT_FALSE(subject_->Busy("acme", "lead_1"));
}

TEST_P(RelayBesidePublishesTest, TheRelayReadsOnPastAPublishStillWaitingForItsAck) {
  // One event per read, so the relay must page past the one it leaves.
  std::unique_ptr<RedisOutbox> outbox = NewOutbox({.batch = 1});
  auto slow = StoreWith(*outbox, {Event("lead_1", "qualified")});
  auto failed = StoreWith(*outbox, {Event("lead_2", "qualified")});
  auto behind_slow = StoreWith(*outbox, {Event("lead_1", "disqualified")});
  publisher_.FailWith(absl::UnavailableError("broker down"));
  EXPECT_FALSE(async::BlockOn(io_.context(), outbox->Published("acme", failed)).ok());
  EXPECT_FALSE(async::BlockOn(io_.context(), outbox->Published("acme", behind_slow)).ok());
  publisher_.FailWith(absl::OkStatus());
  publisher_.HoldAcks();
  std::future<absl::Status> published = StartPublishing(*outbox, slow);

  clock_.Advance(absl::Seconds(40));
  auto pass = outbox->RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 1);
  // lead_1's second event waits behind its first, whose ack has not come.
  EXPECT_EQ(pass->publishing, 2);
  EXPECT_THAT(Read(), ElementsAre(slow[0].id, failed[0].id));

  publisher_.ReleaseAcks();
  ASSERT_TRUE(published.get().ok());
  pass = outbox->RelayOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->relayed, 1);
  EXPECT_THAT(Read(), ElementsAre(slow[0].id, failed[0].id, behind_slow[0].id));
  EXPECT_FALSE(subject_->Busy("acme", "lead_1"));
  EXPECT_FALSE(subject_->Busy("acme", "lead_2"));
}

INSTANTIATE_TEST_SUITE_P(RedisAwaited, RelayBesidePublishesTest,
                         ::testing::Values(Subjects::kRedisAwaited),
                         [](const auto&) { return "RedisAwaited"; });

}  // namespace
}  // namespace flywheel::outbox
