// The read side of the scheduler's API and its per-request actions, over
// gRPC on the real broker and Redis: a request's timers listed, paused and
// resumed together, and the policy's business calendars.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "flywheel/core/field_errors.h"
#include "flywheel/core/id.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/grpc/status.h"
#include "scheduler_test_base.h"

namespace flywheel::scheduler {
namespace {

using ::testing::HasSubstr;

class SchedulerQueriesTest : public testing::SchedulerTestBase {
 protected:
  SchedulerQueriesTest() : SchedulerTestBase("{}") {}

  // Every timer of `request_id` in `states` (all when empty), read page by
  // page of `page_size`; fails the test on an error.
  std::vector<v1::Timer> ListAll(const std::string& request_id, int page_size,
                                 const std::vector<v1::TimerState>& states = {}) {
    std::vector<v1::Timer> all;
    v1::ListTimersRequest request;
    request.set_tenant_id("acme");
    request.set_request_id(request_id);
    request.set_page_size(page_size);
    for (v1::TimerState state : states) request.add_states(state);
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListTimersResponse page;
      ::grpc::Status status = stub_->ListTimers(AsOps().get(), request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      EXPECT_LE(page.timers_size(), page_size);
      for (const v1::Timer& timer : page.timers()) all.push_back(timer);
      if (page.next_page_token().empty()) break;
      request.set_page_token(page.next_page_token());
    }
    return all;
  }

  static std::vector<std::string> IdsOf(const std::vector<v1::Timer>& timers) {
    std::vector<std::string> ids;
    for (const v1::Timer& timer : timers) ids.push_back(timer.timer_id());
    return ids;
  }
};

TEST_F(SchedulerQueriesTest, ARequestsTimersArePausedListedAndResumedTogether) {
  const std::string request = "req_" + NewRandomId();
  std::vector<std::string> ours;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    ours.push_back(request + "/" + name);
    StartTimer(ours.back(), absl::Hours(2), request);
  }
  StartTimer("t_" + NewRandomId(), absl::Hours(2));  // another request's
  EXPECT_EQ(IdsOf(ListAll(request, 2)), ours) << "in id order, two a page";

  // One is paused on its own first; pausing the request pauses the others.
  v1::PauseTimerRequest pause;
  pause.set_tenant_id("acme");
  pause.set_timer_id(ours[0]);
  v1::PauseTimerResponse paused;
  ASSERT_TRUE(stub_->PauseTimer(AsOps().get(), pause, &paused).ok());
  front_clock_.Advance(absl::Minutes(30));
  pause.clear_timer_id();
  pause.set_request_id(request);
  ::grpc::Status status = stub_->PauseTimer(AsOps().get(), pause, &paused);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(IdsOf({paused.timers().begin(), paused.timers().end()}),
            std::vector<std::string>(ours.begin() + 1, ours.end()))
      << "the ones that were running";
  for (const v1::Timer& timer : paused.timers()) {
    EXPECT_EQ(timer.state(), v1::TIMER_STATE_PAUSED);
    EXPECT_EQ(FromProtoDuration(timer.remaining()), absl::Minutes(90));
  }
  EXPECT_EQ(ListAll(request, 50, {v1::TIMER_STATE_PAUSED}).size(), ours.size());
  EXPECT_TRUE(ListAll(request, 50, {v1::TIMER_STATE_RUNNING}).empty());

  // Cancelled timers leave the list.
  v1::CancelTimerRequest cancel;
  cancel.set_tenant_id("acme");
  cancel.set_timer_id(ours[4]);
  v1::CancelTimerResponse cancelled;
  ASSERT_TRUE(stub_->CancelTimer(AsOps().get(), cancel, &cancelled).ok());

  front_clock_.Advance(absl::Minutes(30));
  v1::ResumeTimerRequest resume;
  resume.set_tenant_id("acme");
  resume.set_request_id(request);
  v1::ResumeTimerResponse resumed;
  status = stub_->ResumeTimer(AsOps().get(), resume, &resumed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(resumed.timers_size(), 4);
  for (const v1::Timer& timer : resumed.timers()) {
    EXPECT_EQ(timer.state(), v1::TIMER_STATE_RUNNING) << timer.timer_id();
  }
  // 90 minutes left from now, the first had 120 when paused at the start.
  EXPECT_EQ(FromProtoTime(resumed.timers(1).due_time()), front_clock_.Now() + absl::Minutes(90));
  EXPECT_EQ(FromProtoTime(resumed.timers(0).due_time()), front_clock_.Now() + absl::Hours(2));
  EXPECT_EQ(IdsOf(ListAll(request, 3, {v1::TIMER_STATE_RUNNING})),
            std::vector<std::string>(ours.begin(), ours.begin() + 4));
}

TEST_F(SchedulerQueriesTest, ByRequestCallsNameWhatIsMissingOrTooMuch) {
  v1::PauseTimerRequest both;
  both.set_tenant_id("acme");
  both.set_timer_id("t_1");
  both.set_request_id("req_1");
  v1::PauseTimerResponse paused;
  ::grpc::Status status = stub_->PauseTimer(AsOps().get(), both, &paused);
  ASSERT_EQ(status.error_code(), ::grpc::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "request_id");

  v1::ResumeTimerRequest neither;
  neither.set_tenant_id("acme");
  v1::ResumeTimerResponse resumed;
  status = stub_->ResumeTimer(AsOps().get(), neither, &resumed);
  ASSERT_EQ(status.error_code(), ::grpc::INVALID_ARGUMENT);
  fields = rpc::BadRequestFields(status);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "timer_id");

  v1::ListTimersRequest list;
  list.set_tenant_id("acme");
  list.set_page_size(-1);
  v1::ListTimersResponse listed;
  status = stub_->ListTimers(AsOps().get(), list, &listed);
  ASSERT_EQ(status.error_code(), ::grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  list.set_request_id("req_" + NewRandomId());
  list.set_page_size(0);
  list.set_page_token("not-a-token");
  status = stub_->ListTimers(AsOps().get(), list, &listed);
  ASSERT_EQ(status.error_code(), ::grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
}

TEST_F(SchedulerQueriesTest, BusinessCalendarsAreReadFromThePolicyAndNotWrittenOverGrpc) {
  v1::GetBusinessCalendarRequest get;
  get.set_tenant_id("acme");
  v1::GetBusinessCalendarResponse got;
  ::grpc::Status status = stub_->GetBusinessCalendar(AsOps().get(), get, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.calendar().calendar_id(), "emea") << "the tenant's default";
  EXPECT_EQ(got.calendar().time_zone(), "Europe/Berlin");
  // Mondays to Fridays, 09:00-12:30 and 13:30-17:30.
  ASSERT_EQ(got.calendar().working_hours_size(), 10);
  EXPECT_EQ(got.calendar().working_hours(0).day_of_week(), 1);
  EXPECT_EQ(got.calendar().working_hours(0).start_minute(), 9 * 60);
  EXPECT_EQ(got.calendar().working_hours(1).end_minute(), 17 * 60 + 30);
  std::set<std::string> holidays;
  for (const common::v1::Date& day : got.calendar().holidays()) {
    holidays.insert(absl::StrCat(day.year(), "-", day.month(), "-", day.day()));
  }
  EXPECT_TRUE(holidays.contains("2026-12-25"));

  get.set_calendar_id("mars");
  status = stub_->GetBusinessCalendar(AsOps().get(), get, &got);
  ASSERT_EQ(status.error_code(), ::grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("mars"));

  v1::ListBusinessCalendarsRequest list;
  list.set_tenant_id("acme");
  list.set_page_size(1);
  std::vector<std::string> ids;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListBusinessCalendarsResponse page;
    status = stub_->ListBusinessCalendars(AsOps().get(), list, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const v1::BusinessCalendar& calendar : page.calendars()) {
      ids.push_back(calendar.calendar_id());
    }
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"always_open", "emea"}));

  v1::UpsertBusinessCalendarRequest upsert;
  upsert.mutable_calendar()->set_tenant_id("acme");
  upsert.mutable_calendar()->set_calendar_id("emea");
  v1::UpsertBusinessCalendarResponse upserted;
  status = stub_->UpsertBusinessCalendar(AsOps().get(), upsert, &upserted);
  EXPECT_EQ(status.error_code(), ::grpc::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("policy file"));
}

}  // namespace
}  // namespace flywheel::scheduler
