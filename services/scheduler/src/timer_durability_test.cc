// SLA timers through failures, on the real broker and Redis: a replica that
// dies holding a lease, and (below) Redis losing every timer. Several
// scheduler apps share one Redis prefix and one set of topics, each on its
// own fake clock, so the test decides which replica sees a point as due.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "forwarding_timer_store.h"
#include "google/protobuf/util/message_differencer.h"
#include "scheduler_app.h"
#include "scheduler_test_base.h"

namespace flywheel::scheduler {
namespace {

using ::flywheel::testing::WaitFor;
using testing::TestStart;

constexpr char kConfig[] = "scheduler:\n  claimer:\n    max_idle: 100ms\n    lease: 30s\n";
constexpr absl::Duration kLease = absl::Seconds(30);

// Where a replica stops working, as if killed there.
enum class DiesAt {
  // Its claim script ran (the timers are leased to it), nothing published.
  kAfterClaim,
  // Its batch's events are acknowledged by the broker, no timer completed.
  kBeforeComplete,
};

// The real store until the chosen point, then UNAVAILABLE for every call:
// what Redis and the broker see of a replica killed at that point.
class DyingTimerStore final : public ForwardingTimerStore {
 public:
  DyingTimerStore(TimerStore& inner, DiesAt at) : ForwardingTimerStore(inner), at_(at) {}

  bool dead() const { return dead_.load(); }

  asio::awaitable<absl::StatusOr<std::vector<ClaimedTimer>>> Claim(absl::Time now, size_t max,
                                                                   absl::Duration lease) override {
    if (dead_) co_return Dead();
    auto claimed = co_await inner().Claim(now, max, lease);
    if (claimed.ok() && !claimed->empty() && at_ == DiesAt::kAfterClaim) {
      dead_ = true;
      co_return Dead();
    }
    co_return claimed;
  }
  asio::awaitable<std::vector<absl::Status>> CompleteAll(
      const std::vector<Completion>& batch) override {
    if (at_ == DiesAt::kBeforeComplete) dead_ = true;
    if (dead_) co_return std::vector<absl::Status>(batch.size(), Dead());
    co_return co_await inner().CompleteAll(batch);
  }
  asio::awaitable<absl::StatusOr<std::optional<absl::Time>>> NextDue() override {
    if (dead_) co_return Dead();
    co_return co_await inner().NextDue();
  }

 private:
  static absl::Status Dead() { return absl::UnavailableError("this replica was killed"); }

  const DiesAt at_;
  std::atomic<bool> dead_{false};
};

// The fixture's app is the replica the test talks to over gRPC; its clock
// stays at the start, so it never fires anything. Other replicas are
// started by the test on their own clocks.
class TimerDurabilityTest : public testing::SchedulerTestBase {
 protected:
  TimerDurabilityTest() : SchedulerTestBase(kConfig) {}

  void TearDown() override {
    for (auto it = replicas_.rbegin(); it != replicas_.rend(); ++it) (*it)->app->Stop();
    SchedulerTestBase::TearDown();
  }

  // One more scheduler on this test's Redis prefix and topics.
  // Its clock lives as long as it, until the fixture's TearDown.
  struct Replica {
    explicit Replica(absl::Time now) : clock(now) {}
    FakeClock clock;
    std::optional<config::Config> config;
    metrics::Metrics metrics;
    std::unique_ptr<runtime::App> app;
  };

  // Starts a replica whose clock shows `now`.
  Replica& StartReplica(absl::Time now, TimerStoreWrapper wrap = nullptr) {
    auto replica = std::make_unique<Replica>(now);
    auto config = config::Config::FromString(auth().WithAuth(kConfig), "test", {});
    EXPECT_TRUE(config.ok()) << config.status();
    replica->config.emplace(*std::move(config));
    auto app = StartSchedulerOn(settings(), *replica->config, replica->metrics, replica->clock,
                                std::move(wrap));
    EXPECT_TRUE(app.ok()) << app.status();
    replica->app = *std::move(app);
    replicas_.push_back(std::move(replica));
    return *replicas_.back();
  }

  // Pause, resume, extend by an hour or cancel a timer over gRPC.
  void Pause(const std::string& timer_id) {
    v1::PauseTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    v1::PauseTimerResponse response;
    ::grpc::Status status = stub_->PauseTimer(AsOps().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  void Resume(const std::string& timer_id) {
    v1::ResumeTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    v1::ResumeTimerResponse response;
    ::grpc::Status status = stub_->ResumeTimer(AsOps().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  void ExtendByAnHour(const std::string& timer_id) {
    v1::ExtendTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    *request.mutable_extend_by() = ToProtoDuration(absl::Hours(1));
    v1::ExtendTimerResponse response;
    ::grpc::Status status = stub_->ExtendTimer(AsOps().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  void Cancel(const std::string& timer_id) {
    v1::CancelTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    v1::CancelTimerResponse response;
    ::grpc::Status status = stub_->CancelTimer(AsOps().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // Deletes every key of this test's Redis prefix: Redis as a wipe leaves it.
  void WipeRedis() {
    std::vector<std::string> keys = {"KEYS", prefix() + "*"};
    auto found = admin().Command(keys);
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_FALSE(found->elements().empty()) << "the scheduler kept nothing in Redis";
    for (const redis::Reply& key : found->elements()) {
      std::vector<std::string> del = {"DEL", key.str()};
      ASSERT_TRUE(admin().Command(del).ok());
    }
  }

  // The ids of the SLA events on the topic once it holds `at_least`, with
  // how often each was published.
  std::map<std::string, int> FiredIds(size_t at_least) {
    std::map<std::string, int> ids;
    for (const kafka::Record& record : RecordsOn(events::kSlaTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) ++ids[event->id];
    }
    return ids;
  }

  // Three timers whose warnings a replica holds when it dies.
  struct Doomed {
    std::vector<std::string> timers;
    // The warnings' event ids.
    std::set<std::string> warnings;
  };

  // Starts three one-hour timers and has a replica claim their warnings
  // and die at `at`.
  Doomed KillAReplicaHoldingWarnings(DiesAt at) {
    Doomed out;
    for (int i = 0; i < 3; ++i) {
      const std::string timer = "t_" + NewRandomId();
      StartTimer(timer, absl::Hours(1));
      const FirePoint warning = {.kind = PointKind::kWarning,
                                 .escalation_level = 0,
                                 .due = TestStart() + absl::Minutes(48)};
      out.timers.push_back(timer);
      out.warnings.insert(FiredEventId("acme", timer, warning));
    }
    DyingTimerStore* doomed = nullptr;
    StartReplica(TestStart() + absl::Minutes(48), [&doomed, at](TimerStore& store) {
      auto dying = std::make_unique<DyingTimerStore>(store, at);
      doomed = dying.get();
      return dying;
    });
    EXPECT_TRUE(WaitFor([&] { return doomed != nullptr && doomed->dead(); }))
        << "the doomed replica never claimed the warnings";
    return out;
  }

  // Waits until every one of `timers` has warned (its warning completed).
  void ExpectWarned(const std::vector<std::string>& timers) {
    for (const std::string& id : timers) {
      v1::Timer timer;
      EXPECT_TRUE(WaitFor([&] {
        return GetTimer(id, &timer).ok() && timer.state() == v1::TIMER_STATE_WARNED;
      })) << id
          << " is " << v1::TimerState_Name(timer.state());
    }
  }

  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(TimerDurabilityTest, AReplicaKilledAfterItsClaimHasItsTimersFiredOnceTheLeaseEnds) {
  const Doomed doomed = KillAReplicaHoldingWarnings(DiesAt::kAfterClaim);
  const std::set<std::string>& warnings = doomed.warnings;
  EXPECT_TRUE(FiredIds(0).empty()) << "the killed replica published nothing";

  StartReplica(TestStart() + absl::Minutes(48) + kLease + absl::Seconds(1));
  std::map<std::string, int> fired = FiredIds(warnings.size());
  std::set<std::string> ids;
  for (const auto& [id, count] : fired) {
    ids.insert(id);
    EXPECT_EQ(count, 1) << id << ": nobody else published it";
  }
  EXPECT_EQ(ids, warnings) << "every warning fired, and nothing else";
  ExpectWarned(doomed.timers);
}

TEST_F(TimerDurabilityTest, AReplicaKilledAfterPublishingHasItsBatchFiredAgainUnderTheSameIds) {
  const Doomed doomed = KillAReplicaHoldingWarnings(DiesAt::kBeforeComplete);
  const std::set<std::string>& warnings = doomed.warnings;
  std::map<std::string, int> fired = FiredIds(warnings.size());
  ASSERT_EQ(fired.size(), warnings.size()) << "the killed replica published its batch";

  StartReplica(TestStart() + absl::Minutes(48) + kLease + absl::Seconds(1));
  fired = FiredIds(2 * warnings.size());
  std::set<std::string> ids;
  for (const auto& [id, count] : fired) {
    ids.insert(id);
    EXPECT_EQ(count, 2) << id << ": once by each replica, under one id";
  }
  EXPECT_EQ(ids, warnings) << "no point lost, none fired under another id";
  ExpectWarned(doomed.timers);
}

TEST_F(TimerDurabilityTest, AfterRedisLostItsTimersARestartArmsEveryLiveOneFromTheJournal) {
  const std::string id = NewRandomId();
  const std::string running = "t_running_" + id, paused = "t_paused_" + id,
                    resumed = "t_resumed_" + id, extended = "t_extended_" + id,
                    cancelled = "t_cancelled_" + id, finished = "t_finished_" + id,
                    warned = "t_warned_" + id;
  for (const std::string& timer : {running, paused, resumed, cancelled}) {
    StartTimer(timer, absl::Hours(2));
  }
  StartTimer(extended, absl::Hours(1));
  StartTimer(finished, absl::Minutes(10));  // warns at 8 min, breaches at 10: done
  StartTimer(warned, absl::Minutes(35));    // warns at 28 min
  ExtendByAnHour(extended);
  Cancel(cancelled);
  front_clock_.Advance(absl::Minutes(10));
  Pause(paused);
  Pause(resumed);
  front_clock_.Advance(absl::Minutes(10));
  Resume(resumed);
  front_clock_.Advance(absl::Minutes(10));
  WakeClaimer(app());
  ASSERT_EQ(FiredIds(3).size(), 3u) << "the finished timer's two points and one warning";
  v1::Timer timer;
  ASSERT_TRUE(
      WaitFor([&] { return GetTimer(finished, &timer).error_code() == ::grpc::NOT_FOUND; }));
  ASSERT_TRUE(WaitFor(
      [&] { return GetTimer(warned, &timer).ok() && timer.state() == v1::TIMER_STATE_WARNED; }));
  const std::vector<std::string> live = {running, paused, resumed, extended, warned};
  std::map<std::string, v1::Timer> before;
  for (const std::string& timer_id : live) {
    ASSERT_TRUE(GetTimer(timer_id, &before[timer_id]).ok()) << timer_id;
  }
  EXPECT_EQ(before[paused].state(), v1::TIMER_STATE_PAUSED);
  EXPECT_EQ(FromProtoDuration(before[paused].remaining()), absl::Minutes(110));

  app().Stop();
  WipeRedis();
  Replica& restarted = StartReplica(front_clock_.Now());
  stub_ = v1::SchedulerService::NewStub(runtime::testing::ChannelTo(*restarted.app));
  for (const std::string& timer_id : live) {
    v1::Timer after;
    ::grpc::Status status = GetTimer(timer_id, &after);
    ASSERT_TRUE(status.ok()) << timer_id << " was not rebuilt: " << status.error_message();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before[timer_id], after))
        << timer_id << " before the wipe:\n"
        << before[timer_id].DebugString() << "after:\n"
        << after.DebugString();
  }
  EXPECT_EQ(GetTimer(cancelled, &timer).error_code(), ::grpc::NOT_FOUND) << "cancelled stays so";
  EXPECT_EQ(GetTimer(finished, &timer).error_code(), ::grpc::NOT_FOUND) << "finished stays so";

  // The rebuilt timers fire on from where they were: the warned one's
  // breach next, its warning not again.
  restarted.clock.Advance(absl::Minutes(5));
  WakeClaimer(*restarted.app);
  const std::map<std::string, int> fired = FiredIds(4);
  EXPECT_EQ(fired.size(), 4u);
  for (const auto& [event_id, count] : fired) EXPECT_EQ(count, 1) << event_id;
  const FirePoint breach = {
      .kind = PointKind::kBreach, .escalation_level = 0, .due = TestStart() + absl::Minutes(35)};
  EXPECT_TRUE(fired.contains(FiredEventId("acme", warned, breach)));
}

}  // namespace
}  // namespace flywheel::scheduler
