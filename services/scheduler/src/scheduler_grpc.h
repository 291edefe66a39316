#pragma once

#include "flywheel/auth/role_table.h"
#include "flywheel/grpc/coroutine_calls.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "timers.h"

namespace flywheel::scheduler {

/// Which roles may call each SchedulerService method (see scheduler_grpc.cc).
const auth::RoleTable& SchedulerRoles();

/// The gRPC edge of the SLA timers, intake's shape: each call is admitted by
/// `guard` on the gRPC thread (token, role table, rate limits, the tenant
/// named must be the caller's), then runs as a coroutine of `Timers` on
/// `io`. The calendar, slot, blackout and recurring-work methods are not
/// built yet and answer UNIMPLEMENTED (gRPC's default); ListTimers too.
///
/// Destroy it only after the server serving it has shut down and `io`'s
/// threads have stopped.
class SchedulerGrpc final : public v1::SchedulerService::CallbackService {
 public:
  SchedulerGrpc(Timers& timers, rpc::Guard& guard, asio::io_context& io,
                rpc::CoroutineCallsOptions calls = {})
      : timers_(timers), guard_(guard), calls_(io, calls) {}

  ::grpc::ServerUnaryReactor* StartTimer(::grpc::CallbackServerContext* context,
                                         const v1::StartTimerRequest* request,
                                         v1::StartTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* GetTimer(::grpc::CallbackServerContext* context,
                                       const v1::GetTimerRequest* request,
                                       v1::GetTimerResponse* response) override;
  ::grpc::ServerUnaryReactor* GetRemaining(::grpc::CallbackServerContext* context,
                                           const v1::GetRemainingRequest* request,
                                           v1::GetRemainingResponse* response) override;
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

  Timers& timers_;
  rpc::Guard& guard_;
  rpc::CoroutineCalls calls_;
};

}  // namespace flywheel::scheduler
