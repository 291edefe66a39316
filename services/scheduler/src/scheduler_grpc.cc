#include "scheduler_grpc.h"

#include "flywheel/core/field_errors.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/core/status.h"

namespace flywheel::scheduler {
namespace {

using auth::Role;
using rpc::Refuse;

// At most one of a timer and a request names what is paused or resumed,
// and one of them is given.
absl::Status OneTimer(const std::string& timer_id, const std::string& request_id) {
  FieldErrors errors;
  if (!timer_id.empty() && !request_id.empty()) {
    errors.Add("request_id", "give a timer_id or a request_id, not both");
  } else if (timer_id.empty() && request_id.empty()) {
    errors.Add("timer_id", "is required, or a request_id for every timer of the request");
  }
  return errors.empty() ? absl::OkStatus() : errors.ToStatus();
}

}  // namespace

// Who may call what, per tenant; every caller acts only for its token's
// tenant. Services (routing, approval) and marketing ops drive timers;
// everyone working on requests may read them.
const auth::RoleTable& SchedulerRoles() {
  static const std::initializer_list<Role> kReaders = {
      Role::kRequester, Role::kCreator, Role::kApprover, Role::kOpsAdmin, Role::kService};
  static const auth::RoleTable table(
      "flywheel.scheduler.v1.SchedulerService",
      {
          {"UpsertBusinessCalendar", {Role::kOpsAdmin}},
          {"GetBusinessCalendar", kReaders},
          {"ListBusinessCalendars", kReaders},
          {"ComputeDueTime", kReaders},
          {"StartTimer", {Role::kOpsAdmin, Role::kService}},
          {"GetTimer", kReaders},
          {"GetRemaining", kReaders},
          {"ListTimers", kReaders},
          {"PauseTimer", {Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ResumeTimer", {Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ExtendTimer", {Role::kOpsAdmin, Role::kService}},
          {"CancelTimer", {Role::kOpsAdmin, Role::kService}},
          {"CheckSlot", kReaders},
          {"ReserveSlot", {Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"RescheduleSlot", {Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"CancelSlot", {Role::kCreator, Role::kOpsAdmin, Role::kService}},
          {"ListSlots", kReaders},
          {"CreateBlackout", {Role::kOpsAdmin}},
          {"DeleteBlackout", {Role::kOpsAdmin}},
          {"ListBlackouts", kReaders},
          {"GetCalendarFeed", kReaders},
          {"UpsertRecurringWork", {Role::kOpsAdmin}},
          {"ListRecurringWork", kReaders},
          {"DeleteRecurringWork", {Role::kOpsAdmin}},
      });
  return table;
}

asio::awaitable<absl::StatusOr<v1::StartTimerResponse>> SchedulerGrpc::Start(
    const v1::StartTimerRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Timer timer, co_await timers_.Start(r.timer()));
  v1::StartTimerResponse out;
  *out.mutable_timer() = std::move(timer);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::GetTimerResponse>> SchedulerGrpc::Get(
    const v1::GetTimerRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Timer timer, co_await timers_.Get(r.tenant_id(), r.timer_id()));
  v1::GetTimerResponse out;
  *out.mutable_timer() = std::move(timer);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::PauseTimerResponse>> SchedulerGrpc::Pause(
    const v1::PauseTimerRequest& r) {
  FLYWHEEL_CO_RETURN_IF_ERROR(OneTimer(r.timer_id(), r.request_id()));
  v1::PauseTimerResponse out;
  if (r.timer_id().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Timer> timers,
                                 co_await requests_.Pause(r.tenant_id(), r.request_id()));
    for (v1::Timer& timer : timers) *out.add_timers() = std::move(timer);
    co_return out;
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Timer timer,
                               co_await timers_.Pause(r.tenant_id(), r.timer_id()));
  *out.add_timers() = std::move(timer);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ResumeTimerResponse>> SchedulerGrpc::Resume(
    const v1::ResumeTimerRequest& r) {
  FLYWHEEL_CO_RETURN_IF_ERROR(OneTimer(r.timer_id(), r.request_id()));
  v1::ResumeTimerResponse out;
  if (r.timer_id().empty()) {
    FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Timer> timers,
                                 co_await requests_.Resume(r.tenant_id(), r.request_id()));
    for (v1::Timer& timer : timers) *out.add_timers() = std::move(timer);
    co_return out;
  }
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::Timer timer,
                               co_await timers_.Resume(r.tenant_id(), r.timer_id()));
  *out.add_timers() = std::move(timer);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ExtendTimerResponse>> SchedulerGrpc::Extend(
    const v1::ExtendTimerRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      v1::Timer timer,
      co_await timers_.Extend(r.tenant_id(), r.timer_id(), FromProtoDuration(r.extend_by())));
  v1::ExtendTimerResponse out;
  *out.mutable_timer() = std::move(timer);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::CancelTimerResponse>> SchedulerGrpc::Cancel(
    const v1::CancelTimerRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(bool cancelled,
                               co_await timers_.Cancel(r.tenant_id(), r.timer_id()));
  v1::CancelTimerResponse out;
  out.set_cancelled(cancelled);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ComputeDueTimeResponse>> SchedulerGrpc::Compute(
    const v1::ComputeDueTimeRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(
      absl::Time due,
      timers_.ComputeDue(r.tenant_id(), r.calendar_id(), FromProtoTime(r.start_time()),
                         FromProtoDuration(r.business_duration())));
  v1::ComputeDueTimeResponse out;
  *out.mutable_due_time() = ToProtoTime(due);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::CheckSlotResponse>> SchedulerGrpc::Check(
    const v1::CheckSlotRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(std::vector<v1::Conflict> conflicts, co_await publishing_.Check(r));
  v1::CheckSlotResponse out;
  for (v1::Conflict& c : conflicts) *out.add_conflicts() = std::move(c);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::ReserveSlotResponse>> SchedulerGrpc::Reserve(
    const v1::ReserveSlotRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot slot, co_await publishing_.Reserve(r));
  v1::ReserveSlotResponse out;
  *out.mutable_slot() = std::move(slot);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::RescheduleSlotResponse>> SchedulerGrpc::Reschedule(
    const v1::RescheduleSlotRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot slot, co_await publishing_.Reschedule(r));
  v1::RescheduleSlotResponse out;
  *out.mutable_slot() = std::move(slot);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::CancelSlotResponse>> SchedulerGrpc::CancelOne(
    const v1::CancelSlotRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::PublishingSlot slot, co_await publishing_.Cancel(r));
  v1::CancelSlotResponse out;
  *out.mutable_slot() = std::move(slot);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::DeleteBlackoutResponse>> SchedulerGrpc::Delete(
    const v1::DeleteBlackoutRequest& r) {
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await publishing_.DeleteBlackout(r));
  co_return v1::DeleteBlackoutResponse{};
}

asio::awaitable<absl::StatusOr<v1::UpsertRecurringWorkResponse>> SchedulerGrpc::UpsertRecurring(
    const v1::UpsertRecurringWorkRequest& r) {
  FLYWHEEL_CO_ASSIGN_OR_RETURN(v1::RecurringWork work, co_await recurring_.Upsert(r));
  v1::UpsertRecurringWorkResponse out;
  *out.mutable_recurring_work() = std::move(work);
  co_return out;
}

asio::awaitable<absl::StatusOr<v1::DeleteRecurringWorkResponse>> SchedulerGrpc::DeleteRecurring(
    const v1::DeleteRecurringWorkRequest& r) {
  FLYWHEEL_CO_RETURN_IF_ERROR(co_await recurring_.Delete(r));
  co_return v1::DeleteRecurringWorkResponse{};
}

// Admission runs on the gRPC thread (no I/O); `request` lives until the
// call is finished.

::grpc::ServerUnaryReactor* SchedulerGrpc::StartTimer(::grpc::CallbackServerContext* context,
                                                      const v1::StartTimerRequest* request,
                                                      v1::StartTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "StartTimer", request->timer().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Start(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::GetTimer(::grpc::CallbackServerContext* context,
                                                    const v1::GetTimerRequest* request,
                                                    v1::GetTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetTimer", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Get(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::GetRemaining(::grpc::CallbackServerContext* context,
                                                        const v1::GetRemainingRequest* request,
                                                        v1::GetRemainingResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetRemaining", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response,
                    timers_.Remaining(request->tenant_id(), request->timer_id()));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::PauseTimer(::grpc::CallbackServerContext* context,
                                                      const v1::PauseTimerRequest* request,
                                                      v1::PauseTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "PauseTimer", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Pause(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ResumeTimer(::grpc::CallbackServerContext* context,
                                                       const v1::ResumeTimerRequest* request,
                                                       v1::ResumeTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ResumeTimer", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Resume(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ExtendTimer(::grpc::CallbackServerContext* context,
                                                       const v1::ExtendTimerRequest* request,
                                                       v1::ExtendTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ExtendTimer", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Extend(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::CancelTimer(::grpc::CallbackServerContext* context,
                                                       const v1::CancelTimerRequest* request,
                                                       v1::CancelTimerResponse* response) {
  auto caller = guard_.AdmitFor(*context, "CancelTimer", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Cancel(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ComputeDueTime(::grpc::CallbackServerContext* context,
                                                          const v1::ComputeDueTimeRequest* request,
                                                          v1::ComputeDueTimeResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ComputeDueTime", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Compute(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::CheckSlot(::grpc::CallbackServerContext* context,
                                                     const v1::CheckSlotRequest* request,
                                                     v1::CheckSlotResponse* response) {
  auto caller = guard_.AdmitFor(*context, "CheckSlot", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Check(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ReserveSlot(::grpc::CallbackServerContext* context,
                                                       const v1::ReserveSlotRequest* request,
                                                       v1::ReserveSlotResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ReserveSlot", request->slot().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Reserve(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::RescheduleSlot(::grpc::CallbackServerContext* context,
                                                          const v1::RescheduleSlotRequest* request,
                                                          v1::RescheduleSlotResponse* response) {
  auto caller = guard_.AdmitFor(*context, "RescheduleSlot", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Reschedule(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::CancelSlot(::grpc::CallbackServerContext* context,
                                                      const v1::CancelSlotRequest* request,
                                                      v1::CancelSlotResponse* response) {
  auto caller = guard_.AdmitFor(*context, "CancelSlot", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, CancelOne(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ListSlots(::grpc::CallbackServerContext* context,
                                                     const v1::ListSlotsRequest* request,
                                                     v1::ListSlotsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListSlots", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, publishing_.List(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::CreateBlackout(::grpc::CallbackServerContext* context,
                                                          const v1::CreateBlackoutRequest* request,
                                                          v1::CreateBlackoutResponse* response) {
  auto caller = guard_.AdmitFor(*context, "CreateBlackout", request->blackout().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, publishing_.CreateBlackout(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::DeleteBlackout(::grpc::CallbackServerContext* context,
                                                          const v1::DeleteBlackoutRequest* request,
                                                          v1::DeleteBlackoutResponse* response) {
  auto caller = guard_.AdmitFor(*context, "DeleteBlackout", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, Delete(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ListBlackouts(::grpc::CallbackServerContext* context,
                                                         const v1::ListBlackoutsRequest* request,
                                                         v1::ListBlackoutsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListBlackouts", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, publishing_.ListBlackouts(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::GetCalendarFeed(
    ::grpc::CallbackServerContext* context, const v1::GetCalendarFeedRequest* request,
    v1::GetCalendarFeedResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetCalendarFeed", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, feeds_.Get(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::UpsertRecurringWork(
    ::grpc::CallbackServerContext* context, const v1::UpsertRecurringWorkRequest* request,
    v1::UpsertRecurringWorkResponse* response) {
  auto caller =
      guard_.AdmitFor(*context, "UpsertRecurringWork", request->recurring_work().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, UpsertRecurring(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ListRecurringWork(
    ::grpc::CallbackServerContext* context, const v1::ListRecurringWorkRequest* request,
    v1::ListRecurringWorkResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListRecurringWork", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, recurring_.List(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::DeleteRecurringWork(
    ::grpc::CallbackServerContext* context, const v1::DeleteRecurringWorkRequest* request,
    v1::DeleteRecurringWorkResponse* response) {
  auto caller = guard_.AdmitFor(*context, "DeleteRecurringWork", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, DeleteRecurring(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ListTimers(::grpc::CallbackServerContext* context,
                                                      const v1::ListTimersRequest* request,
                                                      v1::ListTimersResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListTimers", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return calls_.Run(context, response, requests_.List(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::UpsertBusinessCalendar(
    ::grpc::CallbackServerContext* context, const v1::UpsertBusinessCalendarRequest* request,
    v1::UpsertBusinessCalendarResponse* response) {
  auto caller =
      guard_.AdmitFor(*context, "UpsertBusinessCalendar", request->calendar().tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return Refuse(context, response, PolicyCalendars::Upsert());
}

::grpc::ServerUnaryReactor* SchedulerGrpc::GetBusinessCalendar(
    ::grpc::CallbackServerContext* context, const v1::GetBusinessCalendarRequest* request,
    v1::GetBusinessCalendarResponse* response) {
  auto caller = guard_.AdmitFor(*context, "GetBusinessCalendar", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return rpc::Reply(context, response, calendars_.Get(*request));
}

::grpc::ServerUnaryReactor* SchedulerGrpc::ListBusinessCalendars(
    ::grpc::CallbackServerContext* context, const v1::ListBusinessCalendarsRequest* request,
    v1::ListBusinessCalendarsResponse* response) {
  auto caller = guard_.AdmitFor(*context, "ListBusinessCalendars", request->tenant_id());
  if (!caller.ok()) return Refuse(context, response, caller.status());
  return rpc::Reply(context, response, calendars_.List(*request));
}

}  // namespace flywheel::scheduler
