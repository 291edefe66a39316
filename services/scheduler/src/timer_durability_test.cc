// SLA timers through failures, on the real broker and Redis: a replica that
// dies holding a lease, and (below) Redis losing every timer, slot, blackout
// and recurring schedule. Several
// scheduler apps share one Redis prefix and one set of topics, each on its
// own fake clock, so the test decides which replica sees a point as due.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "calendar_requests.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "forwarding_timer_store.h"
#include "google/protobuf/util/message_differencer.h"
#include "recurring_works.h"
#include "scheduler_app.h"
#include "scheduler_test_base.h"

namespace flywheel::scheduler {
namespace {

using ::flywheel::testing::WaitFor;
using testing::ApprovedEvent;
using testing::SlotFor;
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
  TimerDurabilityTest() : SchedulerTestBase(kConfig) {
    // Approval owns the approvals topic and intake the submissions topic
    // (where recurring work files requests); this test stands in for both.
    CreateTopicsBeforeStart(
        {{.name = events::kApprovalsTopic, .partitions = events::kStreamPartitions},
         {.name = events::kSubmissionsTopic, .partitions = events::kStreamPartitions}});
  }

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

  // Reserves acme's slot for `request` at `at` on `destination`.
  v1::PublishingSlot ReserveSlot(const std::string& request, absl::Time at,
                                 const std::string& destination) {
    v1::ReserveSlotResponse reserved;
    ::grpc::Status status =
        stub_->ReserveSlot(AsOps().get(), SlotFor(request, at, destination), &reserved);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reserved.slot();
  }

  // Moves the slot to `at`; its answer.
  v1::PublishingSlot Reschedule(const v1::PublishingSlot& slot, absl::Time at) {
    v1::RescheduleSlotRequest move;
    move.set_tenant_id("acme");
    move.set_slot_id(slot.slot_id());
    *move.mutable_publish_time() = ToProtoTime(at);
    v1::RescheduleSlotResponse moved;
    ::grpc::Status status = stub_->RescheduleSlot(AsOps().get(), move, &moved);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return moved.slot();
  }

  // A blackout of `destination` over [from, to).
  v1::Blackout CreateBlackout(const std::string& destination, absl::Time from, absl::Time to) {
    v1::CreateBlackoutRequest freeze;
    v1::Blackout& blackout = *freeze.mutable_blackout();
    blackout.set_tenant_id("acme");
    *blackout.mutable_range()->mutable_start_time() = ToProtoTime(from);
    *blackout.mutable_range()->mutable_end_time() = ToProtoTime(to);
    blackout.add_destinations(destination);
    blackout.set_reason("results day");
    v1::CreateBlackoutResponse frozen;
    ::grpc::Status status = stub_->CreateBlackout(AsOps().get(), freeze, &frozen);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return frozen.blackout();
  }

  // The range every calendar query of these tests shows.
  static common::v1::TimeRange AllWeek() {
    common::v1::TimeRange range;
    *range.mutable_start_time() = ToProtoTime(TestStart() - absl::Hours(24));
    *range.mutable_end_time() = ToProtoTime(TestStart() + absl::Hours(24 * 7));
    return range;
  }

  // The calendar query: acme's slots this week, cancelled ones too.
  std::vector<v1::PublishingSlot> ListedSlots() {
    v1::ListSlotsRequest list;
    list.set_tenant_id("acme");
    list.set_include_cancelled(true);
    *list.mutable_range() = AllWeek();
    v1::ListSlotsResponse listed;
    ::grpc::Status status = stub_->ListSlots(AsOps().get(), list, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {listed.slots().begin(), listed.slots().end()};
  }

  std::vector<v1::Blackout> ListedBlackouts() {
    v1::ListBlackoutsRequest list;
    list.set_tenant_id("acme");
    *list.mutable_range() = AllWeek();
    v1::ListBlackoutsResponse listed;
    ::grpc::Status status = stub_->ListBlackouts(AsOps().get(), list, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {listed.blackouts().begin(), listed.blackouts().end()};
  }

  std::vector<v1::RecurringWork> ListedRecurringWork() {
    v1::ListRecurringWorkRequest list;
    list.set_tenant_id("acme");
    v1::ListRecurringWorkResponse listed;
    ::grpc::Status status = stub_->ListRecurringWork(AsOps().get(), list, &listed);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {listed.recurring_work().begin(), listed.recurring_work().end()};
  }

  // The PublishDue events on the publishing topic once it holds
  // `at_least`, by event id.
  std::map<std::string, v1::PublishDue> PublishedDue(size_t at_least) {
    std::map<std::string, v1::PublishDue> due;
    for (const kafka::Record& record : RecordsOn(events::kPublishingTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (!event.ok()) continue;
      EXPECT_TRUE(due[event->id].ParseFromString(event->data));
    }
    return due;
  }

  // The submissions recurring work filed once there are `at_least`, by
  // event id.
  std::map<std::string, intake::v1::RequestSubmissionReceived> Submissions(size_t at_least) {
    std::map<std::string, intake::v1::RequestSubmissionReceived> filed;
    for (const kafka::Record& record : RecordsOn(events::kSubmissionsTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (!event.ok()) continue;
      EXPECT_TRUE(filed[event->id].ParseFromString(event->data));
    }
    return filed;
  }

  std::vector<std::unique_ptr<Replica>> replicas_;
};

// What the protos of `before` and `after` differ in; empty when equal.
template <typename Message>
std::string Difference(const std::vector<Message>& before, const std::vector<Message>& after) {
  std::string out;
  if (before.size() != after.size()) {
    return absl::StrCat(before.size(), " before the wipe, ", after.size(), " after");
  }
  for (size_t i = 0; i < before.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(before[i], after[i])) {
      absl::StrAppend(&out, "before:\n", before[i].DebugString(), "after:\n",
                      after[i].DebugString());
    }
  }
  return out;
}

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

TEST_F(TimerDurabilityTest, AfterRedisLostItsStateARestartRebuildsEveryTimerSlotAndSchedule) {
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
  // The finished timer is done before the clock moves on: a jump past the
  // lease of a batch still waiting for its acknowledgements would have its
  // points fired again (allowed, at least once), and this test counts ids.
  WakeClaimer(app());
  v1::Timer timer;
  ASSERT_TRUE(
      WaitFor([&] { return GetTimer(finished, &timer).error_code() == ::grpc::NOT_FOUND; }));
  Pause(paused);
  Pause(resumed);
  front_clock_.Advance(absl::Minutes(10));
  Resume(resumed);
  front_clock_.Advance(absl::Minutes(10));
  WakeClaimer(app());
  ASSERT_EQ(FiredIds(3).size(), 3u) << "the finished timer's two points and one warning";
  ASSERT_TRUE(WaitFor(
      [&] { return GetTimer(warned, &timer).ok() && timer.state() == v1::TIMER_STATE_WARNED; }));
  const std::vector<std::string> live = {running, paused, resumed, extended, warned};
  std::map<std::string, v1::Timer> before;
  for (const std::string& timer_id : live) {
    ASSERT_TRUE(GetTimer(timer_id, &before[timer_id]).ok()) << timer_id;
  }
  EXPECT_EQ(before[paused].state(), v1::TIMER_STATE_PAUSED);
  EXPECT_EQ(FromProtoDuration(before[paused].remaining()), absl::Minutes(110));

  // The calendar, at 16:30: a post moved once (revision 2) to 18:00 and
  // approved; a launch post at 19:00 under a blackout from 18:50 to 19:30;
  // a cancelled one; and the weekly newsletter, Mondays 09:00 in Berlin.
  const absl::Time t0 = front_clock_.Now();
  const std::string request = "req_post_" + id;
  v1::PublishingSlot post = ReserveSlot(request, t0 + absl::Hours(1), "linkedin:acme-corp");
  post = Reschedule(post, t0 + absl::Minutes(90));
  ASSERT_EQ(post.revision(), 2);
  const v1::PublishingSlot launch =
      ReserveSlot(request, t0 + absl::Hours(2) + absl::Minutes(30), "blog:launch");
  v1::PublishingSlot dropped = ReserveSlot(request, t0 + absl::Hours(3), "x:acme-corp");
  v1::CancelSlotRequest drop;
  drop.set_tenant_id("acme");
  drop.set_slot_id(dropped.slot_id());
  v1::CancelSlotResponse cancelled_slot;
  ASSERT_TRUE(stub_->CancelSlot(AsOps().get(), drop, &cancelled_slot).ok());
  const v1::Blackout freeze =
      CreateBlackout("blog:launch", t0 + absl::Minutes(140), t0 + absl::Minutes(180));
  Publish(events::kApprovalsTopic, ApprovedEvent(request, 3));
  ASSERT_TRUE(WaitFor([&] {
    for (const v1::PublishingSlot& slot : ListedSlots()) {
      if (slot.slot_id() == post.slot_id()) return slot.holds().empty();
    }
    return false;
  })) << "the approval never released the post";
  v1::UpsertRecurringWorkRequest upsert;
  v1::RecurringWork& newsletter = *upsert.mutable_recurring_work();
  newsletter.set_tenant_id("acme");
  newsletter.set_recurrence_id("newsletter_" + id);
  newsletter.set_rrule("FREQ=WEEKLY;BYDAY=MO");
  newsletter.set_time_zone("Europe/Berlin");
  *newsletter.mutable_start_time() =
      ToProtoTime(absl::FromCivil(absl::CivilMinute(2026, 12, 7, 8, 0), absl::UTCTimeZone()));
  newsletter.mutable_spec()->set_request_type_id("newsletter");
  newsletter.set_enabled(true);
  v1::UpsertRecurringWorkResponse upserted;
  ASSERT_TRUE(stub_->UpsertRecurringWork(AsOps().get(), upsert, &upserted).ok());
  ASSERT_TRUE(stub_->UpsertRecurringWork(AsOps().get(), upsert, &upserted).ok());
  ASSERT_EQ(upserted.recurring_work().revision(), 2);
  const absl::Time monday = FromProtoTime(upserted.recurring_work().next_occurrence_time());
  const std::vector<v1::PublishingSlot> slots_before = ListedSlots();
  ASSERT_EQ(slots_before.size(), 3u);
  const std::vector<v1::Blackout> blackouts_before = ListedBlackouts();
  ASSERT_EQ(blackouts_before.size(), 1u);
  const std::vector<v1::RecurringWork> recurring_before = ListedRecurringWork();
  ASSERT_EQ(recurring_before.size(), 1u);

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
  // The calendar query shows what it showed: the same revisions, the
  // approval (no hold on the post), the blackout holding the launch post.
  EXPECT_EQ(Difference(slots_before, ListedSlots()), "");
  EXPECT_EQ(Difference(blackouts_before, ListedBlackouts()), "");
  EXPECT_EQ(Difference(recurring_before, ListedRecurringWork()), "");

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

  // The post goes out at its time under the id it would have had, with
  // the approved version; the launch post, under the blackout, does not.
  restarted.clock.Advance(t0 + absl::Minutes(90) - restarted.clock.Now());
  WakeClaimer(*restarted.app);
  const std::map<std::string, v1::PublishDue> due = PublishedDue(1);
  ASSERT_EQ(due.size(), 1u);
  const std::string post_event = "evt_publish_acme_" + post.slot_id() + "_r2";
  ASSERT_TRUE(due.contains(post_event)) << due.begin()->first;
  EXPECT_EQ(due.at(post_event).slot().slot_id(), post.slot_id());
  EXPECT_EQ(due.at(post_event).content_version(), 3u);
  restarted.clock.Advance(t0 + absl::Hours(2) + absl::Minutes(30) - restarted.clock.Now());
  WakeClaimer(*restarted.app);
  EXPECT_TRUE(WaitFor([&] {
    for (const v1::PublishingSlot& slot : ListedSlots()) {
      if (slot.slot_id() == launch.slot_id()) return slot.status() == v1::SLOT_STATUS_HELD;
    }
    return false;
  })) << "the rebuilt blackout did not hold the launch post";

  // The newsletter files its request on Monday, under its occurrence's key.
  restarted.clock.Advance(monday - restarted.clock.Now());
  WakeClaimer(*restarted.app);
  const auto submissions = Submissions(1);
  ASSERT_EQ(submissions.size(), 1u);
  const std::string occurrence_event =
      absl::StrCat("evt_recurring_acme_newsletter_", id, "_", absl::ToUnixMillis(monday));
  ASSERT_TRUE(submissions.contains(occurrence_event)) << submissions.begin()->first;
  EXPECT_EQ(submissions.at(occurrence_event).idempotency_key(),
            OccurrenceKey("newsletter_" + id, monday));
  EXPECT_EQ(submissions.at(occurrence_event).spec().request_type_id(), "newsletter");
}

}  // namespace
}  // namespace flywheel::scheduler
