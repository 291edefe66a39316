#pragma once

#include "calendar_feeds.h"
#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "policy_calendars.h"
#include "publishing.h"
#include "recurring_works.h"
#include "request_timers.h"
#include "timers.h"

namespace flywheel::scheduler {

/// Which roles may call each SchedulerService method (see scheduler_grpc.cc).
const auth::RoleTable& SchedulerRoles();

/// The gRPC edge of the SLA timers and the publishing calendar, intake's
/// shape: each call is admitted by `guard` on the gRPC thread (token, role
/// table, rate limits, the tenant named must be the caller's), then runs as
/// a coroutine of `Timers`, `Publishing`, `CalendarFeeds` or `RecurringWorks` on `io`. A slot
/// refused for its conflicts is FAILED_PRECONDITION with a CheckSlotResponse detail listing
/// them. Business calendars are read from the policy (`PolicyCalendars`);
/// UpsertBusinessCalendar is FAILED_PRECONDITION, as calendars change only
/// through the policy file. PauseTimer and ResumeTimer act on one timer or
/// on every timer of a request, ListTimers lists a request's
/// (`RequestTimers`).
///
/// Destroy it only after the server serving it has shut down and `io`'s
/// threads have stopped.
class SchedulerGrpc final : public v1::SchedulerService::CallbackService {
 public:
  SchedulerGrpc(Timers& timers, RequestTimers& requests, Publishing& publishing,
                CalendarFeeds& feeds, RecurringWorks& recurring, const PolicyCalendars& calendars,
                rpc::Guard& guard, asio::io_context& io, rpc::CoroutineCallsOptions calls = {})
      : timers_(timers),
        requests_(requests),
        publishing_(publishing),
        feeds_(feeds),
        recurring_(recurring),
        calendars_(calendars),
        guard_(guard),
        calls_(io, calls) {}

  ::grpc::ServerUnaryReactor* UpsertBusinessCalendar(
      ::grpc::CallbackServerContext* context, const v1::UpsertBusinessCalendarRequest* request,
      v1::UpsertBusinessCalendarResponse* response) override;
  ::grpc::ServerUnaryReactor* GetBusinessCalendar(
      ::grpc::CallbackServerContext* context, const v1::GetBusinessCalendarRequest* request,
      v1::GetBusinessCalendarResponse* response) override;
  ::grpc::ServerUnaryReactor* ListBusinessCalendars(
      ::grpc::CallbackServerContext* context, const v1::ListBusinessCalendarsRequest* request,
      v1::ListBusinessCalendarsResponse* response) override;

  ::grpc::ServerUnaryReactor* StartTimer(::grpc::CallbackServerContext* context,
                                         const v1::StartTimerRequest* request,
                                         v1::StartTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* GetTimer(::grpc::CallbackServerContext* context,
                                       const v1::GetTimerRequest* request,
                                       v1::GetTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* GetRemaining(::grpc::CallbackServerContext* context,
                                           const v1::GetRemainingRequest* request,
                                           v1::GetRemainingResponse* response) override;
  ::grpc::ServerUnaryReactor* ListTimers(::grpc::CallbackServerContext* context,
                                         const v1::ListTimersRequest* request,
                                         v1::ListTimersResponse* response) override;
  ::grpc::ServerUnaryReactor* PauseTimer(::grpc::CallbackServerContext* context,
                                         const v1::PauseTimerRequest* request,
                                         v1::PauseTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* ResumeTimer(::grpc::CallbackServerContext* context,
                                          const v1::ResumeTimerRequest* request,
                                          v1::ResumeTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* ExtendTimer(::grpc::CallbackServerContext* context,
                                          const v1::ExtendTimerRequest* request,
                                          v1::ExtendTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* CancelTimer(::grpc::CallbackServerContext* context,
                                          const v1::CancelTimerRequest* request,
                                          v1::CancelTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* ComputeDueTime(::grpc::CallbackServerContext* context,
                                             const v1::ComputeDueTimeRequest* request,
                                             v1::ComputeDueTimeResponse* response) override;
  ::grpc::ServerUnaryReactor* CheckSlot(::grpc::CallbackServerContext* context,
                                        const v1::CheckSlotRequest* request,
                                        v1::CheckSlotResponse* response) override;
  ::grpc::ServerUnaryReactor* ReserveSlot(::grpc::CallbackServerContext* context,
                                          const v1::ReserveSlotRequest* request,
                                          v1::ReserveSlotResponse* response) override;
  ::grpc::ServerUnaryReactor* RescheduleSlot(::grpc::CallbackServerContext* context,
                                             const v1::RescheduleSlotRequest* request,
                                             v1::RescheduleSlotResponse* response) override;
  ::grpc::ServerUnaryReactor* CancelSlot(::grpc::CallbackServerContext* context,
                                         const v1::CancelSlotRequest* request,
                                         v1::CancelSlotResponse* response) override;
  ::grpc::ServerUnaryReactor* ListSlots(::grpc::CallbackServerContext* context,
                                        const v1::ListSlotsRequest* request,
                                        v1::ListSlotsResponse* response) override;
  ::grpc::ServerUnaryReactor* CreateBlackout(::grpc::CallbackServerContext* context,
                                             const v1::CreateBlackoutRequest* request,
                                             v1::CreateBlackoutResponse* response) override;
  ::grpc::ServerUnaryReactor* DeleteBlackout(::grpc::CallbackServerContext* context,
                                             const v1::DeleteBlackoutRequest* request,
                                             v1::DeleteBlackoutResponse* response) override;
  ::grpc::ServerUnaryReactor* ListBlackouts(::grpc::CallbackServerContext* context,
                                            const v1::ListBlackoutsRequest* request,
                                            v1::ListBlackoutsResponse* response) override;
  ::grpc::ServerUnaryReactor* GetCalendarFeed(::grpc::CallbackServerContext* context,
                                              const v1::GetCalendarFeedRequest* request,
                                              v1::GetCalendarFeedResponse* response) override;
  ::grpc::ServerUnaryReactor* UpsertRecurringWork(
      ::grpc::CallbackServerContext* context, const v1::UpsertRecurringWorkRequest* request,
      v1::UpsertRecurringWorkResponse* response) override;
  ::grpc::ServerUnaryReactor* ListRecurringWork(::grpc::CallbackServerContext* context,
                                                const v1::ListRecurringWorkRequest* request,
                                                v1::ListRecurringWorkResponse* response) override;
  ::grpc::ServerUnaryReactor* DeleteRecurringWork(
      ::grpc::CallbackServerContext* context, const v1::DeleteRecurringWorkRequest* request,
      v1::DeleteRecurringWorkResponse* response) override;

 private:
  // Each call's logic, as a coroutine over the request (which lives until
  // the call is finished).
  asio::awaitable<absl::StatusOr<v1::StartTimerResponse>> Start(const v1::StartTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::GetTimerResponse>> Get(const v1::GetTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::PauseTimerResponse>> Pause(const v1::PauseTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::ResumeTimerResponse>> Resume(const v1::ResumeTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::ExtendTimerResponse>> Extend(const v1::ExtendTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::CancelTimerResponse>> Cancel(const v1::CancelTimerRequest& r);
  asio::awaitable<absl::StatusOr<v1::ComputeDueTimeResponse>> Compute(
      const v1::ComputeDueTimeRequest& r);
  asio::awaitable<absl::StatusOr<v1::CheckSlotResponse>> Check(const v1::CheckSlotRequest& r);
  asio::awaitable<absl::StatusOr<v1::ReserveSlotResponse>> Reserve(const v1::ReserveSlotRequest& r);
  asio::awaitable<absl::StatusOr<v1::RescheduleSlotResponse>> Reschedule(
      const v1::RescheduleSlotRequest& r);
  asio::awaitable<absl::StatusOr<v1::CancelSlotResponse>> CancelOne(const v1::CancelSlotRequest& r);
  asio::awaitable<absl::StatusOr<v1::DeleteBlackoutResponse>> Delete(
      const v1::DeleteBlackoutRequest& r);
  asio::awaitable<absl::StatusOr<v1::UpsertRecurringWorkResponse>> UpsertRecurring(
      const v1::UpsertRecurringWorkRequest& r);
  asio::awaitable<absl::StatusOr<v1::DeleteRecurringWorkResponse>> DeleteRecurring(
      const v1::DeleteRecurringWorkRequest& r);

  Timers& timers_;
  RequestTimers& requests_;
  Publishing& publishing_;
  CalendarFeeds& feeds_;
  RecurringWorks& recurring_;
  const PolicyCalendars& calendars_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::scheduler
