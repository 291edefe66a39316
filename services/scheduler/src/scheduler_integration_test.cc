// The scheduler through the real broker and Redis, started as main() starts
// it but on a fake clock (StartSchedulerOn): timer requests in from the
// timer-requests topic and over gRPC, sla.warning and sla.breached out.
// Time moves by the test; nothing here sleeps for it.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <libical/ical.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "calendar_requests.h"
#include "flywheel/approval/v1/events.pb.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/testing/wait_for.h"
#include "flywheel/events/catalog.h"
#include "flywheel/grpc/status.h"
#include "flywheel/http/server.h"
#include "flywheel/http/testing/fetch.h"
#include "flywheel/intake/v1/events.pb.h"
#include "flywheel/kafka/cloud_event.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/events.pb.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "google/rpc/status.pb.h"
#include "scheduler_app.h"

namespace flywheel::scheduler {
namespace {

using ::flywheel::testing::WaitFor;
using ::testing::HasSubstr;

// 2026-12-04 16:00 in Berlin (CET, UTC+1): a Friday an hour and a half
// before the office closes.
absl::Time BerlinFridayAfternoon() {
  return absl::FromCivil(absl::CivilSecond(2026, 12, 4, 16, 0, 0), absl::FixedTimeZone(3600));
}

absl::Time Berlin(int year, int month, int day, int hour, int minute) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         absl::FixedTimeZone(3600));
}

// The scheduler's config here: a short idle bound, and calendar feeds on a
// free port, signed with a secret written for the test.
std::string TestConfig() {
  const std::string secret = ::testing::TempDir() + "/scheduler-feed-secret";
  std::ofstream(secret) << "a secret of forty bytes, for tests only\n";
  return absl::StrCat(
      "scheduler:\n  claimer:\n    max_idle: 100ms\n  feeds:\n    listen: 127.0.0.1:0\n"
      "    secret_file: ",
      secret, "\n");
}

class SchedulerIntegrationTest : public runtime::testing::ServiceFixture {
 protected:
  SchedulerIntegrationTest()
      : ServiceFixture([this](const runtime::CommonSettings& s, config::Config& c,
                              metrics::Metrics& m) { return StartSchedulerOn(s, c, m, clock_); },
                       TestConfig()),
        clock_(BerlinFridayAfternoon()) {
    // Approval owns the approvals topic and intake the submissions topic
    // (where recurring work files requests); this test stands in for both.
    CreateTopicsBeforeStart(
        {{.name = events::kApprovalsTopic, .partitions = events::kStreamPartitions},
         {.name = events::kSubmissionsTopic, .partitions = events::kStreamPartitions}});
  }

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::SchedulerService::NewStub(channel());
  }

  std::unique_ptr<::grpc::ClientContext> AsOps() const {
    std::vector<std::string> roles = {"ops-admin"};
    return auth().Call(auth().Token("acme", roles, "ops"));
  }

  static v1::TimerRequested StartRequest(const std::string& timer_id, absl::Duration budget,
                                         const std::string& calendar) {
    v1::TimerRequested r;
    r.set_tenant_id("acme");
    r.set_request_id("req_" + timer_id);
    r.set_timer_id(timer_id);
    r.set_action(v1::TIMER_ACTION_START);
    r.set_kind(common::v1::TIMER_KIND_STAGE_SLA);
    r.set_stage_id("creation");
    *r.mutable_duration() = ToProtoDuration(budget);
    r.set_calendar_id(calendar);
    r.set_reason("stage entered");
    return r;
  }

  void PublishCommand(const v1::TimerRequested& r, const std::string& event_id) {
    Publish(events::kTimerRequestsTopic, {.id = event_id,
                                          .source = "//tests/routing",
                                          .type = events::kTimerRequested,
                                          .data_content_type = kafka::kProtobufContentType,
                                          .key = r.request_id(),
                                          .data = r.SerializeAsString()});
  }

  ::grpc::Status GetTimer(const std::string& timer_id, v1::Timer* out) {
    v1::GetTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    v1::GetTimerResponse response;
    ::grpc::Status status = stub_->GetTimer(AsOps().get(), request, &response);
    *out = response.timer();
    return status;
  }

  // Moves the clock and has the scheduler look for what became due.
  void Advance(absl::Duration by) {
    clock_.Advance(by);
    WakeClaimer(app());
  }

  // The SLA events published so far, decoded, once there are `at_least`.
  std::vector<kafka::CloudEvent> SlaEvents(size_t at_least) {
    std::vector<kafka::CloudEvent> out;
    for (const kafka::Record& record : RecordsOn(events::kSlaTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) out.push_back(*std::move(event));
    }
    return out;
  }

  // Reserves a slot for `request` at `at` on `destination`; its answer.
  v1::PublishingSlot ReserveSlot(const std::string& request, absl::Time at,
                                 const std::string& destination) {
    v1::ReserveSlotResponse reserved;
    ::grpc::Status status =
        stub_->ReserveSlot(AsOps().get(), testing::SlotFor(request, at, destination), &reserved);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reserved.slot();
  }

  // The slot as ListSlots shows it (cancelled ones too); empty when absent.
  v1::PublishingSlot ListedSlot(const v1::PublishingSlot& slot) {
    v1::ListSlotsRequest list;
    list.set_tenant_id("acme");
    list.set_include_cancelled(true);
    *list.mutable_range()->mutable_start_time() = ToProtoTime(clock_.Now() - absl::Hours(24 * 7));
    *list.mutable_range()->mutable_end_time() = ToProtoTime(clock_.Now() + absl::Hours(24 * 7));
    v1::ListSlotsResponse listed;
    EXPECT_TRUE(stub_->ListSlots(AsOps().get(), list, &listed).ok());
    for (const v1::PublishingSlot& s : listed.slots()) {
      if (s.slot_id() == slot.slot_id()) return s;
    }
    return {};
  }

  // Approval completes for `request`, and `slot` of it shows no hold.
  void Approve(const std::string& request, const v1::PublishingSlot& slot) {
    Publish(events::kApprovalsTopic, testing::ApprovedEvent(request));
    EXPECT_TRUE(WaitFor([&] { return ListedSlot(slot).holds().empty(); }))
        << "the approval never released the slot";
  }

  // Two slots of one approved request: `slot` an hour from now on LinkedIn,
  // `marker` two hours from now on a blog. Keyed by one request, their
  // events share a partition: the marker's shows whatever fired before it.
  struct SlotAndMarker {
    std::string request;
    absl::Time t0;
    v1::PublishingSlot slot;
    v1::PublishingSlot marker;
  };
  SlotAndMarker ReserveWithMarker() {
    SlotAndMarker out{.request = "req_" + NewRandomId(), .t0 = clock_.Now()};
    out.slot = ReserveSlot(out.request, out.t0 + absl::Hours(1), "linkedin:acme-corp");
    out.marker = ReserveSlot(out.request, out.t0 + absl::Hours(2), "blog:marker");
    Approve(out.request, out.slot);
    return out;
  }

  // The slot ids of the PublishDue events published so far, in order, once
  // the one of `last` is among them. A test keys every slot by one request,
  // so they share a partition: whatever fired before `last` shows too.
  std::vector<std::string> FiredUpTo(const v1::PublishingSlot& last) {
    std::vector<std::string> fired;
    const bool seen = WaitFor([&] {
      fired.clear();
      for (const kafka::Record& record : RecordsOn(events::kPublishingTopic)) {
        auto event = kafka::Decode(record);
        v1::PublishDue due;
        if (!event.ok() || event->type != events::kPublishDue ||
            !due.ParseFromString(event->data)) {
          ADD_FAILURE() << "not a publish.due on the publishing topic";
          continue;
        }
        fired.push_back(due.slot().slot_id());
      }
      return std::find(fired.begin(), fired.end(), last.slot_id()) != fired.end();
    });
    EXPECT_TRUE(seen) << "slot " << last.slot_id() << " never fired";
    return fired;
  }

  FakeClock clock_;
  std::unique_ptr<v1::SchedulerService::Stub> stub_;
};

TEST_F(SchedulerIntegrationTest, WarnsThenBreachesThenEscalatesAsTheClockMoves) {
  const std::string timer = "t_" + NewRandomId();
  PublishCommand(StartRequest(timer, absl::Hours(1), "always_open"), "evt_start_" + timer);
  v1::Timer armed;
  ASSERT_TRUE(WaitFor([&] { return GetTimer(timer, &armed).ok(); })) << "never armed";
  const absl::Time start = clock_.Now();
  EXPECT_EQ(armed.state(), v1::TIMER_STATE_RUNNING);
  EXPECT_EQ(FromProtoTime(armed.warn_time()), start + absl::Minutes(48));  // 80 % of 1 h
  EXPECT_EQ(FromProtoTime(armed.due_time()), start + absl::Hours(1));

  Advance(absl::Minutes(47));
  Advance(absl::Minutes(1));
  std::vector<kafka::CloudEvent> fired = SlaEvents(1);
  ASSERT_EQ(fired.size(), 1u) << "only the warning is due";
  EXPECT_EQ(fired[0].type, events::kSlaWarning);
  EXPECT_EQ(fired[0].key, "req_" + timer);
  v1::SlaWarning warning;
  ASSERT_TRUE(warning.ParseFromString(fired[0].data));
  EXPECT_EQ(warning.timer_id(), timer);
  EXPECT_EQ(FromProtoTime(warning.due_time()), start + absl::Hours(1));
  EXPECT_EQ(FromProtoDuration(warning.remaining()), absl::Minutes(12));
  ASSERT_TRUE(GetTimer(timer, &armed).ok());
  EXPECT_EQ(armed.state(), v1::TIMER_STATE_WARNED);

  // The breach, then the stage_sla chain of the shipped policy: remind the
  // owner at the breach, tell the manager 4 h later, reassign after 1 day.
  Advance(absl::Minutes(12));
  Advance(absl::Hours(4));
  Advance(absl::Hours(20));
  fired = SlaEvents(4);
  ASSERT_EQ(fired.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"remind", "owner"}, {"notify", "manager"}, {"reassign", "team_lead"}};
  const std::vector<absl::Duration> at = {absl::Hours(1), absl::Hours(5), absl::Hours(25)};
  for (size_t level = 0; level < 3; ++level) {
    const kafka::CloudEvent& event = fired[level + 1];
    EXPECT_EQ(event.type, events::kSlaBreached);
    v1::SlaBreached breached;
    ASSERT_TRUE(breached.ParseFromString(event.data));
    EXPECT_EQ(breached.escalation_level(), level);
    EXPECT_EQ(breached.action(), expected[level].first) << "level " << level;
    EXPECT_EQ(breached.target_role(), expected[level].second) << "level " << level;
    EXPECT_EQ(FromProtoTime(breached.due_time()), start + at[level]) << "level " << level;
  }
  // Every point fired once, under its own id; the timer is done.
  std::set<std::string> ids;
  for (const kafka::CloudEvent& e : fired) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 4u);
  v1::Timer gone;
  EXPECT_EQ(GetTimer(timer, &gone).error_code(), ::grpc::StatusCode::NOT_FOUND);
  Advance(absl::Hours(48));
  EXPECT_EQ(SlaEvents(0).size(), 4u) << "nothing fires after the last escalation";
}

TEST_F(SchedulerIntegrationTest, CountsOnlyBusinessHoursAndStopsWhilePaused) {
  const std::string timer = "t_" + NewRandomId();
  v1::StartTimerRequest start;
  *start.mutable_timer() = StartRequest(timer, absl::Hours(4), "emea");
  v1::StartTimerResponse started;
  ::grpc::Status status = stub_->StartTimer(AsOps().get(), start, &started);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Friday 16:00 + 4 business hours: 1.5 h on Friday, 2.5 h on Monday.
  EXPECT_EQ(FromProtoTime(started.timer().due_time()), Berlin(2026, 12, 7, 11, 30));

  clock_.Set(Berlin(2026, 12, 4, 17, 0));  // one business hour used
  v1::PauseTimerRequest pause;
  pause.set_tenant_id("acme");
  pause.set_timer_id(timer);
  pause.set_reason("waiting on the requester for product photos");
  v1::PauseTimerResponse paused;
  ASSERT_TRUE(stub_->PauseTimer(AsOps().get(), pause, &paused).ok());
  ASSERT_EQ(paused.timers_size(), 1);
  EXPECT_EQ(paused.timers(0).state(), v1::TIMER_STATE_PAUSED);
  EXPECT_EQ(FromProtoDuration(paused.timers(0).remaining()), absl::Hours(3));

  // The weekend and Monday morning pass while paused; nothing fires.
  Advance(absl::Hours(65));  // Monday 10:00
  v1::GetRemainingRequest ask;
  ask.set_tenant_id("acme");
  ask.set_timer_id(timer);
  v1::GetRemainingResponse remaining;
  ASSERT_TRUE(stub_->GetRemaining(AsOps().get(), ask, &remaining).ok());
  EXPECT_EQ(remaining.state(), v1::TIMER_STATE_PAUSED);
  EXPECT_EQ(FromProtoDuration(remaining.business_remaining()), absl::Hours(3));

  v1::ResumeTimerRequest resume;
  resume.set_tenant_id("acme");
  resume.set_timer_id(timer);
  v1::ResumeTimerResponse resumed;
  ASSERT_TRUE(stub_->ResumeTimer(AsOps().get(), resume, &resumed).ok());
  // Monday 10:00 + 3 h: 10:00-12:30, lunch, 13:30-14:00.
  EXPECT_EQ(FromProtoTime(resumed.timers(0).due_time()), Berlin(2026, 12, 7, 14, 0));
  ASSERT_TRUE(stub_->GetRemaining(AsOps().get(), ask, &remaining).ok());
  EXPECT_EQ(remaining.state(), v1::TIMER_STATE_RUNNING);
  EXPECT_EQ(FromProtoDuration(remaining.business_remaining()), absl::Hours(3));
  EXPECT_EQ(FromProtoDuration(remaining.remaining()), absl::Hours(4));  // lunch included
  EXPECT_TRUE(SlaEvents(0).empty());

  v1::ComputeDueTimeRequest compute;
  compute.set_tenant_id("acme");
  compute.set_calendar_id("emea");
  *compute.mutable_start_time() = ToProtoTime(Berlin(2026, 12, 24, 17, 0));
  *compute.mutable_business_duration() = ToProtoDuration(absl::Hours(1));
  v1::ComputeDueTimeResponse due;
  ASSERT_TRUE(stub_->ComputeDueTime(AsOps().get(), compute, &due).ok());
  // Christmas Day and Boxing Day are holidays, then a weekend: Monday 28th.
  EXPECT_EQ(FromProtoTime(due.due_time()), Berlin(2026, 12, 28, 9, 30));

  v1::CancelTimerRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_timer_id(timer);
  v1::CancelTimerResponse cancelled;
  ASSERT_TRUE(stub_->CancelTimer(AsOps().get(), cancel, &cancelled).ok());
  EXPECT_TRUE(cancelled.cancelled());
  Advance(absl::Hours(8));
  EXPECT_TRUE(SlaEvents(0).empty()) << "a cancelled timer never fires";
}

TEST_F(SchedulerIntegrationTest, ARepeatedStartChangesNothingAndABadOneIsDeadLettered) {
  const std::string timer = "t_" + NewRandomId();
  const v1::TimerRequested request = StartRequest(timer, absl::Hours(2), "always_open");
  PublishCommand(request, "evt_start_" + timer);
  v1::Timer first;
  ASSERT_TRUE(WaitFor([&] { return GetTimer(timer, &first).ok(); }));
  clock_.Advance(absl::Minutes(30));
  PublishCommand(request, "evt_start_again_" + timer);

  // On the repeat's key, so it is handled after the repeat.
  v1::TimerRequested bad = StartRequest("t_" + NewRandomId(), absl::ZeroDuration(), "nowhere");
  bad.set_request_id(request.request_id());
  PublishCommand(bad, "evt_bad_" + timer);
  std::vector<kafka::Record> dead = RecordsOn(events::kSchedulerDeadLetterTopic, 1);
  ASSERT_EQ(dead.size(), 1u);
  std::string reason;
  for (const kafka::Header& header : dead[0].headers) {
    if (header.key == kafka::kDeadLetterReasonHeader) reason = header.value;
  }
  EXPECT_THAT(reason, HasSubstr("duration"));
  EXPECT_THAT(reason, HasSubstr("calendar_id"));
  v1::Timer after;
  ASSERT_TRUE(GetTimer(timer, &after).ok());
  EXPECT_EQ(FromProtoTime(after.due_time()), FromProtoTime(first.due_time()));

  v1::StartTimerRequest unknown;
  *unknown.mutable_timer() = StartRequest("t_" + NewRandomId(), absl::Hours(1), "");
  unknown.mutable_timer()->set_tenant_id("globex");
  v1::StartTimerResponse response;
  ::grpc::Status refused = stub_->StartTimer(AsOps().get(), unknown, &response);
  EXPECT_EQ(refused.error_code(), ::grpc::StatusCode::PERMISSION_DENIED)
      << "acme's token does not act for globex";
  *unknown.mutable_timer() = StartRequest("t_" + NewRandomId(), absl::Hours(1), "mars");
  refused = stub_->StartTimer(AsOps().get(), unknown, &response);
  EXPECT_EQ(refused.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("mars"));
}

TEST_F(SchedulerIntegrationTest, SlotsAreSpacedOverGrpcAndReleasedByTheApproval) {
  const absl::Time at = clock_.Now() + absl::Hours(24);
  v1::ReserveSlotRequest reserve;
  v1::PublishingSlot& slot = *reserve.mutable_slot();
  slot.set_tenant_id("acme");
  slot.set_request_id("req_" + NewRandomId());
  slot.set_channel(common::v1::CHANNEL_SOCIAL_ORGANIC);
  slot.set_destination("linkedin:acme-corp");
  *slot.mutable_publish_time() = ToProtoTime(at);
  v1::ReserveSlotResponse reserved;
  ::grpc::Status status = stub_->ReserveSlot(AsOps().get(), reserve, &reserved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reserved.slot().holds_size(), 1);
  EXPECT_EQ(reserved.slot().holds(0).kind(), v1::HOLD_KIND_AWAITING_APPROVAL);

  // The shipped policy keeps LinkedIn posts 4h apart.
  v1::ReserveSlotRequest close = reserve;
  *close.mutable_slot()->mutable_publish_time() = ToProtoTime(at + absl::Hours(1));
  v1::ReserveSlotResponse refused;
  status = stub_->ReserveSlot(AsOps().get(), close, &refused);
  ASSERT_EQ(status.error_code(), ::grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  v1::CheckSlotResponse conflicts;
  ASSERT_EQ(details.details_size(), 1);
  ASSERT_TRUE(details.details(0).UnpackTo(&conflicts));
  ASSERT_EQ(conflicts.conflicts_size(), 1);
  EXPECT_EQ(conflicts.conflicts(0).kind(), v1::CONFLICT_KIND_SLOT_TOO_CLOSE);
  EXPECT_EQ(conflicts.conflicts(0).slot_id(), reserved.slot().slot_id());
  EXPECT_EQ(FromProtoTime(conflicts.conflicts(0).suggested_time()), at + absl::Hours(4));

  v1::ReserveSlotRequest past = reserve;
  *past.mutable_slot()->mutable_publish_time() = ToProtoTime(clock_.Now() - absl::Minutes(5));
  status = stub_->ReserveSlot(AsOps().get(), past, &refused);
  ASSERT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "slot.publish_time");

  approval::v1::ApprovalCompleted approved;
  approved.set_tenant_id("acme");
  approved.set_request_id(slot.request_id());
  approved.set_outcome(approval::v1::CHAIN_STATUS_APPROVED);
  Publish(events::kApprovalsTopic, {.id = "evt_approval_" + slot.request_id(),
                                    .source = "//tests/approval",
                                    .type = events::kApprovalCompleted,
                                    .data_content_type = kafka::kProtobufContentType,
                                    .key = slot.request_id(),
                                    .data = approved.SerializeAsString()});
  v1::ListSlotsRequest list;
  list.set_tenant_id("acme");
  *list.mutable_range()->mutable_start_time() = ToProtoTime(at - absl::Hours(1));
  *list.mutable_range()->mutable_end_time() = ToProtoTime(at + absl::Hours(1));
  v1::ListSlotsResponse listed;
  EXPECT_TRUE(WaitFor([&] {
    listed.Clear();
    return stub_->ListSlots(AsOps().get(), list, &listed).ok() && listed.slots_size() == 1 &&
           listed.slots(0).holds().empty();
  })) << "the approval never released the slot: "
      << listed.DebugString();
}

TEST_F(SchedulerIntegrationTest,
       AReservedSlotFiresPublishDueOnceAtItsTimeAndTheConnectorsAnswerSticks) {
  const std::string request = "req_" + NewRandomId();
  const absl::Time t0 = clock_.Now();
  const v1::PublishingSlot early = ReserveSlot(request, t0 + absl::Minutes(30), "blog:early");
  const v1::PublishingSlot slot = ReserveSlot(request, t0 + absl::Hours(1), "linkedin:acme-corp");
  const v1::PublishingSlot late = ReserveSlot(request, t0 + absl::Hours(2), "blog:late");
  Approve(request, slot);

  Advance(absl::Minutes(30));
  EXPECT_THAT(FiredUpTo(early), ::testing::ElementsAre(early.slot_id()))
      << "nothing before its time";
  Advance(absl::Minutes(30));
  EXPECT_THAT(FiredUpTo(slot), ::testing::ElementsAre(early.slot_id(), slot.slot_id()));
  EXPECT_EQ(ListedSlot(slot).status(), v1::SLOT_STATUS_DUE);
  Advance(absl::Hours(1));
  EXPECT_THAT(FiredUpTo(late),
              ::testing::ElementsAre(early.slot_id(), slot.slot_id(), late.slot_id()))
      << "each slot once";

  const std::vector<kafka::Record> records = RecordsOn(events::kPublishingTopic);
  ASSERT_EQ(records.size(), 3u);
  auto event = kafka::Decode(records[1]);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id, absl::StrCat("evt_publish_acme_", slot.slot_id(), "_r1"));
  EXPECT_EQ(records[1].key, request);
  v1::PublishDue due;
  ASSERT_TRUE(due.ParseFromString(event->data));
  EXPECT_EQ(due.request_id(), request);
  EXPECT_EQ(due.slot().destination(), "linkedin:acme-corp");
  EXPECT_EQ(due.slot().channel(), common::v1::CHANNEL_SOCIAL_ORGANIC);
  EXPECT_EQ(due.slot().revision(), 2);

  v1::PublishDone done;
  done.set_tenant_id("acme");
  done.set_request_id(request);
  done.set_slot_id(slot.slot_id());
  done.set_slot_revision(due.slot().revision());
  done.set_url("https://www.linkedin.com/feed/update/urn:li:share:1");
  Publish(events::kPublishResultsTopic, {.id = "evt_done_" + slot.slot_id(),
                                         .source = "//tests/connector",
                                         .type = events::kPublishDone,
                                         .data_content_type = kafka::kProtobufContentType,
                                         .key = request,
                                         .data = done.SerializeAsString()});
  EXPECT_TRUE(WaitFor([&] { return ListedSlot(slot).status() == v1::SLOT_STATUS_PUBLISHED; }));
  EXPECT_EQ(ListedSlot(slot).outcome_detail(), done.url());
}

TEST_F(SchedulerIntegrationTest, ARescheduledSlotFiresAtItsNewTimeOnly) {
  const auto [request, t0, slot, marker] = ReserveWithMarker();
  v1::RescheduleSlotRequest move;
  move.set_tenant_id("acme");
  move.set_slot_id(slot.slot_id());
  *move.mutable_publish_time() = ToProtoTime(t0 + absl::Hours(3));
  v1::RescheduleSlotResponse moved;
  ::grpc::Status status = stub_->RescheduleSlot(AsOps().get(), move, &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();

  Advance(absl::Hours(2));
  EXPECT_THAT(FiredUpTo(marker), ::testing::ElementsAre(marker.slot_id()))
      << "the old time passed without it";
  EXPECT_EQ(ListedSlot(slot).status(), v1::SLOT_STATUS_RESERVED);
  Advance(absl::Hours(1));
  EXPECT_THAT(FiredUpTo(slot), ::testing::ElementsAre(marker.slot_id(), slot.slot_id()));
  EXPECT_EQ(ListedSlot(slot).status(), v1::SLOT_STATUS_DUE);
}

TEST_F(SchedulerIntegrationTest, ACancelledSlotNeverFires) {
  const auto [request, t0, slot, marker] = ReserveWithMarker();
  v1::CancelSlotRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_slot_id(slot.slot_id());
  v1::CancelSlotResponse cancelled;
  ::grpc::Status status = stub_->CancelSlot(AsOps().get(), cancel, &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();

  Advance(absl::Hours(2));
  EXPECT_THAT(FiredUpTo(marker), ::testing::ElementsAre(marker.slot_id()));
  EXPECT_EQ(ListedSlot(slot).status(), v1::SLOT_STATUS_CANCELLED);
}

TEST_F(SchedulerIntegrationTest, ASlotUnderABlackoutIsHeldAndFiresWhenTheBlackoutEnds) {
  const auto [request, t0, slot, marker] = ReserveWithMarker();
  v1::CreateBlackoutRequest freeze;
  v1::Blackout& blackout = *freeze.mutable_blackout();
  blackout.set_tenant_id("acme");
  *blackout.mutable_range()->mutable_start_time() = ToProtoTime(t0 + absl::Minutes(30));
  *blackout.mutable_range()->mutable_end_time() = ToProtoTime(t0 + absl::Hours(3));
  blackout.add_destinations("linkedin:acme-corp");
  blackout.set_reason("results day");
  v1::CreateBlackoutResponse frozen;
  ::grpc::Status status = stub_->CreateBlackout(AsOps().get(), freeze, &frozen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(frozen.affected_slots_size(), 1);
  EXPECT_EQ(frozen.affected_slots(0).slot_id(), slot.slot_id());

  Advance(absl::Hours(2));
  EXPECT_THAT(FiredUpTo(marker), ::testing::ElementsAre(marker.slot_id()))
      << "its time passed under the blackout";
  const v1::PublishingSlot held = ListedSlot(slot);
  EXPECT_EQ(held.status(), v1::SLOT_STATUS_HELD);
  ASSERT_EQ(held.holds_size(), 1);
  EXPECT_EQ(held.holds(0).kind(), v1::HOLD_KIND_BLACKOUT);
  EXPECT_EQ(held.holds(0).blackout_id(), frozen.blackout().blackout_id());

  Advance(absl::Hours(1));
  EXPECT_THAT(FiredUpTo(slot), ::testing::ElementsAre(marker.slot_id(), slot.slot_id()));
  const v1::PublishingSlot due = ListedSlot(slot);
  EXPECT_EQ(due.status(), v1::SLOT_STATUS_DUE);
  EXPECT_TRUE(due.holds().empty());
}

// The UIDs of the events of an iCalendar text, parsed by libical.
std::set<std::string> EventUids(const std::string& ics) {
  std::set<std::string> uids;
  icalcomponent* calendar = icalparser_parse_string(ics.c_str());
  EXPECT_NE(calendar, nullptr) << ics;
  if (calendar == nullptr) return uids;
  EXPECT_EQ(icalcomponent_count_errors(calendar), 0) << ics;
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       e != nullptr; e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    uids.insert(icalcomponent_get_uid(e));
  }
  icalcomponent_free(calendar);
  return uids;
}

TEST_F(SchedulerIntegrationTest, ATeamsCalendarFeedParsesAndItsSignedAddressServesIt) {
  const std::string team = "team_" + NewRandomId();
  const absl::Time at = clock_.Now() + absl::Hours(48);
  auto reserve = [&](const std::string& team_id, common::v1::Channel channel,
                     const std::string& destination) {
    v1::ReserveSlotRequest request;
    v1::PublishingSlot& slot = *request.mutable_slot();
    slot.set_tenant_id("acme");
    slot.set_request_id("req_" + NewRandomId());
    slot.set_channel(channel);
    slot.set_destination(destination);
    slot.set_team_id(team_id);
    slot.set_note("Launch post; partners, webinar");
    *slot.mutable_publish_time() = ToProtoTime(at);
    v1::ReserveSlotResponse reserved;
    ::grpc::Status status = stub_->ReserveSlot(AsOps().get(), request, &reserved);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reserved.slot().slot_id();
  };
  const std::string ours = reserve(team, common::v1::CHANNEL_EMAIL, "email:" + team);
  reserve("team_other_" + NewRandomId(), common::v1::CHANNEL_EMAIL, "email:other-" + team);
  v1::CreateBlackoutRequest freeze;
  freeze.mutable_blackout()->set_tenant_id("acme");
  *freeze.mutable_blackout()->mutable_range()->mutable_start_time() =
      ToProtoTime(at - absl::Hours(1));
  *freeze.mutable_blackout()->mutable_range()->mutable_end_time() =
      ToProtoTime(at + absl::Hours(1));
  freeze.mutable_blackout()->add_destinations("email:" + team);
  freeze.mutable_blackout()->set_reason("brand freeze");
  v1::CreateBlackoutResponse frozen;
  ASSERT_TRUE(stub_->CreateBlackout(AsOps().get(), freeze, &frozen).ok());

  v1::GetCalendarFeedRequest request;
  request.set_tenant_id("acme");
  request.set_team_id(team);
  request.add_destinations("email:" + team);
  v1::GetCalendarFeedResponse feed;
  ::grpc::Status status = stub_->GetCalendarFeed(AsOps().get(), request, &feed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(feed.content_type(), "text/calendar; charset=utf-8");
  EXPECT_EQ(feed.slot_count(), 1) << "only the team's slot";
  EXPECT_EQ(feed.blackout_count(), 1);
  EXPECT_EQ(EventUids(feed.ics()),
            (std::set<std::string>{ours + ".acme@flywheel",
                                   frozen.blackout().blackout_id() + ".acme@flywheel"}));

  // A calendar app sends no token: the signed address is its credential.
  ASSERT_FALSE(feed.subscription_path().empty());
  const int port = FeedPort(app());
  http::testing::Fetched served = http::testing::Fetch(port, "GET", feed.subscription_path());
  EXPECT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.content_type, "text/calendar; charset=utf-8");
  EXPECT_EQ(served.body, feed.ics()) << "the same clock, the same feed";

  std::string widened = feed.subscription_path();
  widened.replace(widened.find("team=" + team), 5 + team.size(), "team=team_other");
  EXPECT_EQ(http::testing::Fetch(port, "GET", widened).status, 403);

  v1::GetCalendarFeedRequest inverted = request;
  *inverted.mutable_range()->mutable_start_time() = ToProtoTime(at);
  *inverted.mutable_range()->mutable_end_time() = ToProtoTime(at - absl::Hours(1));
  status = stub_->GetCalendarFeed(AsOps().get(), inverted, &feed);
  ASSERT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "range.end_time");
}

// Recurring work: files RequestSubmissionReceived on intake's submissions
// topic (which this test reads in intake's place) at each occurrence, read
// in the work's zone. The clock starts on Friday 2027-03-26 16:00 in Berlin
// (CET, UTC+1); the clocks go forward on Sunday the 28th.
class RecurringWorkTest : public SchedulerIntegrationTest {
 protected:
  void SetUp() override {
    SchedulerIntegrationTest::SetUp();
    if (HasFatalFailure()) return;
    AdvanceTo(Utc(2027, 3, 26, 15, 0));
  }

  static absl::Time Utc(int year, int month, int day, int hour, int minute) {
    return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                           absl::UTCTimeZone());
  }

  // The weekly newsletter: Mondays 09:00 in Berlin, first on 2027-03-22
  // (09:00 CET is 08:00 UTC).
  static v1::RecurringWork Newsletter(const std::string& id) {
    v1::RecurringWork work;
    work.set_tenant_id("acme");
    work.set_recurrence_id(id);
    work.set_rrule("FREQ=WEEKLY;BYDAY=MO");
    work.set_time_zone("Europe/Berlin");
    *work.mutable_start_time() = ToProtoTime(Utc(2027, 3, 22, 8, 0));
    work.mutable_spec()->set_request_type_id("newsletter");
    work.mutable_spec()->set_title("Weekly newsletter");
    work.set_enabled(true);
    return work;
  }

  ::grpc::Status Upsert(const v1::RecurringWork& work, v1::RecurringWork* stored = nullptr) {
    v1::UpsertRecurringWorkRequest request;
    *request.mutable_recurring_work() = work;
    v1::UpsertRecurringWorkResponse response;
    ::grpc::Status status = stub_->UpsertRecurringWork(AsOps().get(), request, &response);
    if (stored != nullptr) *stored = response.recurring_work();
    return status;
  }

  std::vector<v1::RecurringWork> Listed() {
    v1::ListRecurringWorkRequest request;
    request.set_tenant_id("acme");
    v1::ListRecurringWorkResponse response;
    ::grpc::Status status = stub_->ListRecurringWork(AsOps().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.recurring_work().begin(), response.recurring_work().end()};
  }

  // The submissions published so far, decoded, once there are `at_least`.
  std::vector<std::pair<kafka::CloudEvent, intake::v1::RequestSubmissionReceived>> Submissions(
      size_t at_least) {
    std::vector<std::pair<kafka::CloudEvent, intake::v1::RequestSubmissionReceived>> out;
    for (const kafka::Record& record : RecordsOn(events::kSubmissionsTopic, at_least)) {
      auto event = kafka::Decode(record);
      EXPECT_TRUE(event.ok()) << event.status();
      if (!event.ok()) continue;
      intake::v1::RequestSubmissionReceived submission;
      EXPECT_TRUE(submission.ParseFromString(event->data));
      out.emplace_back(*std::move(event), std::move(submission));
    }
    return out;
  }

  // Moves the clock to `to` and has the scheduler look for what became due.
  void AdvanceTo(absl::Time to) {
    clock_.Advance(to - clock_.Now());
    WakeClaimer(app());
  }
};

TEST_F(RecurringWorkTest, FilesOneSubmissionPerOccurrenceInTheZoneUntilDeleted) {
  const std::string id = "newsletter_" + NewRandomId();
  v1::RecurringWork stored;
  ::grpc::Status status = Upsert(Newsletter(id), &stored);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(stored.revision(), 1);
  // Monday 09:00 after the change is CEST: 07:00 UTC.
  EXPECT_EQ(FromProtoTime(stored.next_occurrence_time()), Utc(2027, 3, 29, 7, 0));

  AdvanceTo(Utc(2027, 3, 29, 6, 59));
  AdvanceTo(Utc(2027, 3, 29, 7, 0));
  auto submissions = Submissions(1);
  ASSERT_EQ(submissions.size(), 1u);
  const auto& [event, submission] = submissions[0];
  EXPECT_EQ(event.type, events::kRequestSubmissionReceived);
  const std::string key = "recurring:" + id + ":2027-03-29T07:00:00Z";
  EXPECT_EQ(submission.idempotency_key(), key);
  EXPECT_EQ(event.key, key);
  EXPECT_EQ(submission.tenant_id(), "acme");
  EXPECT_EQ(submission.origin(), "flywheel-scheduler");
  EXPECT_EQ(submission.spec().title(), "Weekly newsletter");
  EXPECT_FALSE(submission.spec().has_due_time()) << "no lead time: filed when it occurs";

  // The next Monday is armed once this one is filed.
  ASSERT_TRUE(WaitFor([&] {
    std::vector<v1::RecurringWork> listed = Listed();
    return listed.size() == 1 &&
           FromProtoTime(listed[0].next_occurrence_time()) == Utc(2027, 4, 5, 7, 0);
  })) << "the next occurrence was not armed";

  v1::DeleteRecurringWorkRequest remove;
  remove.set_tenant_id("acme");
  remove.set_recurrence_id(id);
  v1::DeleteRecurringWorkResponse removed;
  status = stub_->DeleteRecurringWork(AsOps().get(), remove, &removed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Listed().empty());

  // A daily report due at 10:00 Berlin, filed a day ahead, first due on
  // the 6th, is the marker: filed on the 5th at 08:00 UTC, after the
  // deleted newsletter's Monday (07:00 UTC) would have been, in the same
  // claim or a later one; once it is seen, the newsletter's second
  // submission would be too.
  v1::RecurringWork report = Newsletter("report_" + NewRandomId());
  report.set_rrule("FREQ=DAILY;BYHOUR=10;BYMINUTE=0");
  *report.mutable_start_time() = ToProtoTime(Utc(2027, 4, 6, 8, 0));
  *report.mutable_lead_time() = ToProtoDuration(absl::Hours(24));
  status = Upsert(report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  AdvanceTo(Utc(2027, 4, 5, 8, 30));
  submissions = Submissions(2);
  ASSERT_EQ(submissions.size(), 2u) << "the deleted work filed again";
  const std::string marker_key = "recurring:" + report.recurrence_id() + ":2027-04-06T08:00:00Z";
  const auto marker = std::find_if(submissions.begin(), submissions.end(), [&](const auto& s) {
    return s.second.idempotency_key() == marker_key;
  });
  ASSERT_NE(marker, submissions.end()) << "the report was not filed under " << marker_key;
  EXPECT_EQ(FromProtoTime(marker->second.spec().due_time()), Utc(2027, 4, 6, 8, 0))
      << "due at the occurrence, filed its lead time before";
}

// Filed three days ahead: the Monday after the change is filed at once,
// due at 09:00 Berlin; a change made after that is not filed again for it.
TEST_F(RecurringWorkTest, AChangeAfterAnOccurrenceWasFiledAppliesFromTheNextOne) {
  v1::RecurringWork work = Newsletter("newsletter_" + NewRandomId());
  *work.mutable_lead_time() = ToProtoDuration(absl::Hours(72));
  ::grpc::Status status = Upsert(work);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto submissions = Submissions(1);
  ASSERT_EQ(submissions.size(), 1u);
  EXPECT_EQ(submissions[0].second.idempotency_key(),
            "recurring:" + work.recurrence_id() + ":2027-03-29T07:00:00Z");
  EXPECT_EQ(FromProtoTime(submissions[0].second.spec().due_time()), Utc(2027, 3, 29, 7, 0));
  ASSERT_TRUE(WaitFor([&] {
    std::vector<v1::RecurringWork> listed = Listed();
    return listed.size() == 1 &&
           FromProtoTime(listed[0].next_occurrence_time()) == Utc(2027, 4, 5, 7, 0);
  })) << "the next occurrence was not armed";

  work.mutable_spec()->set_title("Weekly newsletter, new format");
  v1::RecurringWork stored;
  status = Upsert(work, &stored);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(stored.revision(), 2);
  EXPECT_EQ(FromProtoTime(stored.next_occurrence_time()), Utc(2027, 4, 5, 7, 0));

  // Filed on Friday 2027-04-02 09:00 Berlin, three days before it is due.
  AdvanceTo(Utc(2027, 4, 2, 7, 0));
  submissions = Submissions(2);
  ASSERT_EQ(submissions.size(), 2u) << "the filed Monday was filed again";
  const std::string key = "recurring:" + work.recurrence_id() + ":2027-04-05T07:00:00Z";
  const auto next = std::find_if(submissions.begin(), submissions.end(),
                                 [&](const auto& s) { return s.second.idempotency_key() == key; });
  ASSERT_NE(next, submissions.end()) << "not filed under " << key;
  EXPECT_EQ(next->second.spec().title(), "Weekly newsletter, new format");
}

TEST_F(RecurringWorkTest, RefusesARuleThatNeverFiresAndStoresNothing) {
  v1::RecurringWork never = Newsletter("never_" + NewRandomId());
  never.set_rrule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
  ::grpc::Status status = Upsert(never);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u) << status.error_message();
  EXPECT_EQ(fields[0].field, "recurring_work.rrule");
  EXPECT_THAT(fields[0].reason, HasSubstr("never fires"));

  // Ended before now: COUNT=1 was the Monday before the clock.
  v1::RecurringWork ended = Newsletter("ended_" + NewRandomId());
  ended.set_rrule("FREQ=WEEKLY;BYDAY=MO;COUNT=1");
  status = Upsert(ended);
  fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u) << status.error_message();
  EXPECT_EQ(fields[0].field, "recurring_work.rrule");

  v1::RecurringWork bad = Newsletter("bad_" + NewRandomId());
  bad.set_rrule("0 9 * * 1");
  bad.set_time_zone("Mars/Olympus_Mons");
  bad.clear_spec();
  status = Upsert(bad);
  EXPECT_EQ(status.error_code(), ::grpc::StatusCode::INVALID_ARGUMENT);
  std::set<std::string> named;
  for (const FieldViolation& v : rpc::BadRequestFields(status)) named.insert(v.field);
  EXPECT_EQ(named, (std::set<std::string>{"recurring_work.rrule", "recurring_work.time_zone",
                                          "recurring_work.spec"}));

  EXPECT_TRUE(Listed().empty()) << "a refused upsert stored something";
}

TEST_F(RecurringWorkTest, AStaleRevisionIsAbortedAndListsPageById) {
  v1::RecurringWork stored;
  ASSERT_TRUE(Upsert(Newsletter("a_first"), &stored).ok());
  ASSERT_TRUE(Upsert(Newsletter("b_second")).ok());
  v1::UpsertRecurringWorkRequest request;
  *request.mutable_recurring_work() = Newsletter("a_first");
  request.set_expected_revision(stored.revision());
  v1::UpsertRecurringWorkResponse response;
  ASSERT_TRUE(stub_->UpsertRecurringWork(AsOps().get(), request, &response).ok());
  EXPECT_EQ(response.recurring_work().revision(), 2);
  EXPECT_EQ(stub_->UpsertRecurringWork(AsOps().get(), request, &response).error_code(),
            ::grpc::StatusCode::ABORTED);

  v1::ListRecurringWorkRequest list;
  list.set_tenant_id("acme");
  list.set_page_size(1);
  v1::ListRecurringWorkResponse page;
  ASSERT_TRUE(stub_->ListRecurringWork(AsOps().get(), list, &page).ok());
  ASSERT_EQ(page.recurring_work_size(), 1);
  EXPECT_EQ(page.recurring_work(0).recurrence_id(), "a_first");
  ASSERT_FALSE(page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(stub_->ListRecurringWork(AsOps().get(), list, &page).ok());
  ASSERT_EQ(page.recurring_work_size(), 1);
  EXPECT_EQ(page.recurring_work(0).recurrence_id(), "b_second");
  EXPECT_TRUE(page.next_page_token().empty());
}

}  // namespace
}  // namespace flywheel::scheduler
