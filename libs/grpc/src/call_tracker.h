#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flywheel/grpc/server.h"

namespace flywheel::rpc {

/// The RED metrics of one server and the count of application calls in
/// flight that the drain waits on. Shared by the server and every call's
/// interceptor; thread-safe.
class CallTracker {
 public:
  /// The metric series of one method label.
  struct Method {
    std::string label;
    bool application = false;  // Counts toward the drain (not health/reflection).
    prometheus::Histogram* duration = nullptr;
    prometheus::Gauge* in_flight = nullptr;
  };

  /// Registers the three families; throws std::invalid_argument for a name
  /// the registry refuses (only at start-up).
  CallTracker(metrics::Metrics& metrics, const std::string& service);

  /// The series for a full method name; one shared `unknown` entry for a
  /// name this binary has no descriptor for, so labels stay bounded.
  const Method& Lookup(const char* full_method);

  void Begin(const Method& method);
  void End(const Method& method, const std::string& code, double seconds);

  /// Blocks until no application call is in flight or `deadline` passes;
  /// returns whether it reached zero.
  bool AwaitIdle(absl::Time deadline);
  int in_flight() const;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& in_flight_;

  absl::Mutex methods_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(methods_mu_);
  Method unknown_;

  mutable absl::Mutex calls_mu_;
  int application_calls_ ABSL_GUARDED_BY(calls_mu_) = 0;
};

/// Makes one RED interceptor per call.
class RedInterceptorFactory : public ::grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RedInterceptorFactory(std::shared_ptr<CallTracker> tracker)
      : tracker_(std::move(tracker)) {}
  ::grpc::experimental::Interceptor* CreateServerInterceptor(
      ::grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::shared_ptr<CallTracker> tracker_;
};

}  // namespace flywheel::rpc
