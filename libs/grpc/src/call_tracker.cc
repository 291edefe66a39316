#include "call_tracker.h"

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::rpc {
namespace {

using ::grpc::experimental::InterceptionHookPoints;

// Served by gRPC itself from upb messages, so not in the C++ descriptor pool.
constexpr std::string_view kHealthPrefix = "/grpc.health.v1.Health/";
constexpr std::string_view kReflectionPrefix = "/grpc.reflection.";

bool IsKnown(std::string_view full) {
  if (full == "/grpc.health.v1.Health/Check" || full == "/grpc.health.v1.Health/Watch") {
    return true;
  }
  // "/pkg.Service/Method" -> "pkg.Service.Method"
  if (full.size() < 4 || full.front() != '/') return false;
  const size_t slash = full.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 == full.size()) return false;
  std::string dotted =
      absl::StrCat(absl::string_view(full.data() + 1, slash - 1), ".",
                   absl::string_view(full.data() + slash + 1, full.size() - slash - 1));
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted) != nullptr;
}

// Records one call: counted in flight from creation (the call has been
// matched to a method) to destruction (the call is over).
class RedInterceptor : public ::grpc::experimental::Interceptor {
 public:
  RedInterceptor(std::shared_ptr<CallTracker> tracker, const CallTracker::Method& method)
      : tracker_(std::move(tracker)), method_(method), start_(std::chrono::steady_clock::now()) {
    tracker_->Begin(method_);
  }

  ~RedInterceptor() override {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    // No status sent means the call ended without an answer: the client went
    // away or the server cancelled it at the end of a drain.
    tracker_->End(method_, code_.empty() ? "CANCELLED" : code_, elapsed.count());
  }

  void Intercept(::grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      code_ = absl::StatusCodeToString(
          static_cast<absl::StatusCode>(static_cast<int>(methods->GetSendStatus().error_code())));
    }
    methods->Proceed();
  }

 private:
  std::shared_ptr<CallTracker> tracker_;
  const CallTracker::Method& method_;
  const std::chrono::steady_clock::time_point start_;
  std::string code_;
};

}  // namespace

CallTracker::CallTracker(metrics::Metrics& metrics, const std::string& service)
    : requests_(metrics.Counter(absl::StrCat("flywheel_", service, "_grpc_requests_total"),
                                "gRPC calls finished, by method and status code.")),
      duration_(metrics.Histogram(
          absl::StrCat("flywheel_", service, "_grpc_request_duration_seconds"),
          "Time from a gRPC call being matched to a method until it ended, by method.")),
      in_flight_(metrics.Gauge(absl::StrCat("flywheel_", service, "_grpc_in_flight_requests"),
                               "gRPC calls running now, by method.")) {
  unknown_.label = "unknown";
  unknown_.application = true;
  unknown_.duration = &duration_.Add({{"method", "unknown"}}, metrics::LatencyBuckets());
  unknown_.in_flight = &in_flight_.Add({{"method", "unknown"}});
}

const CallTracker::Method& CallTracker::Lookup(const char* full_method) {
  const std::string_view full = full_method == nullptr ? "" : full_method;
  absl::MutexLock lock(&methods_mu_);
  auto it = methods_.find(absl::string_view(full.data(), full.size()));
  if (it != methods_.end()) return *it->second;
  if (!IsKnown(full)) return unknown_;
  auto method = std::make_unique<Method>();
  method->label = std::string(full);
  method->application = !full.starts_with(kHealthPrefix) && !full.starts_with(kReflectionPrefix);
  method->duration = &duration_.Add({{"method", method->label}}, metrics::LatencyBuckets());
  method->in_flight = &in_flight_.Add({{"method", method->label}});
  const Method& out = *method;
  methods_.emplace(method->label, std::move(method));
  return out;
}

void CallTracker::Begin(const Method& method) {
  method.in_flight->Increment();
  if (!method.application) return;
  absl::MutexLock lock(&calls_mu_);
  ++application_calls_;
}

void CallTracker::End(const Method& method, const std::string& code, double seconds) {
  requests_.Add({{"method", method.label}, {"code", code}}).Increment();
  method.duration->Observe(seconds);
  method.in_flight->Decrement();
  if (!method.application) return;
  absl::MutexLock lock(&calls_mu_);
  --application_calls_;
}

bool CallTracker::AwaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&calls_mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(calls_mu_) { return application_calls_ == 0; };
  return calls_mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

int CallTracker::in_flight() const {
  absl::MutexLock lock(&calls_mu_);
  return application_calls_;
}

::grpc::experimental::Interceptor* RedInterceptorFactory::CreateServerInterceptor(
    ::grpc::experimental::ServerRpcInfo* info) {
  return new RedInterceptor(tracker_, tracker_->Lookup(info->method()));
}

}  // namespace flywheel::rpc
