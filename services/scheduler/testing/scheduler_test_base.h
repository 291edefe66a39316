#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/time/civil_time.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/proto_time.h"
#include "flywheel/runtime/testing/service_fixture.h"
#include "flywheel/scheduler/v1/scheduler_service.grpc.pb.h"
#include "scheduler_app.h"

namespace flywheel::scheduler::testing {

/// 2026-12-04 16:00 UTC, a Friday: where the tests' clocks start.
inline absl::Time TestStart() {
  return absl::FromCivil(absl::CivilSecond(2026, 12, 4, 16, 0, 0), absl::UTCTimeZone());
}

/// A scheduler on the test bed's broker and Redis, on a fake clock that
/// stays at `TestStart()` unless the test moves it, with a gRPC stub and calls
/// as acme's ops admin.
class SchedulerTestBase : public runtime::testing::ServiceFixture {
 protected:
  explicit SchedulerTestBase(std::string config_yaml)
      : ServiceFixture(
            [this](const runtime::CommonSettings& s, config::Config& c, metrics::Metrics& m) {
              return StartSchedulerOn(s, c, m, front_clock_);
            },
            std::move(config_yaml)) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    stub_ = v1::SchedulerService::NewStub(channel());
  }

  std::unique_ptr<::grpc::ClientContext> AsOps() const {
    std::vector<std::string> roles = {"ops-admin"};
    return auth().Call(auth().Token("acme", roles, "ops"));
  }

  /// Starts acme's reminder timer `timer_id` (a warning at 80 %, then the
  /// breach; no chain) over gRPC on the always-open calendar, for
  /// `request_id` (`req_<timer_id>` when empty).
  void StartTimer(const std::string& timer_id, absl::Duration budget,
                  const std::string& request_id = "") {
    v1::StartTimerRequest start;
    v1::TimerRequested& timer = *start.mutable_timer();
    timer.set_tenant_id("acme");
    timer.set_request_id(request_id.empty() ? "req_" + timer_id : request_id);
    timer.set_timer_id(timer_id);
    timer.set_kind(common::v1::TIMER_KIND_REMINDER);
    timer.set_calendar_id("always_open");
    *timer.mutable_duration() = ToProtoDuration(budget);
    v1::StartTimerResponse started;
    ::grpc::Status status = stub_->StartTimer(AsOps().get(), start, &started);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  /// acme's timer `timer_id`, over gRPC.
  ::grpc::Status GetTimer(const std::string& timer_id, v1::Timer* out) {
    v1::GetTimerRequest request;
    request.set_tenant_id("acme");
    request.set_timer_id(timer_id);
    v1::GetTimerResponse response;
    ::grpc::Status status = stub_->GetTimer(AsOps().get(), request, &response);
    *out = response.timer();
    return status;
  }

  FakeClock front_clock_{TestStart()};
  std::unique_ptr<v1::SchedulerService::Stub> stub_;
};

}  // namespace flywheel::scheduler::testing
