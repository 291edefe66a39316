#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flywheel/grpc/tls.h"

namespace grpc {
class Server;
class Service;
namespace experimental {
class CertificateProviderInterface;
}
}  // namespace grpc

namespace flywheel::metrics {
class Metrics;
}

// The namespace is `rpc`, not `grpc`: a `flywheel::grpc` would hide `::grpc`
// from every `grpc::ServerContext` written inside `namespace flywheel`.
namespace flywheel::rpc {

/// How one gRPC server listens, names its metrics and drains.
struct ServerOptions {
  /// `host:port`; `127.0.0.1:0` binds a free port (read it from `port()`).
  std::string address = "0.0.0.0:8080";
  /// The `<service>` of `flywheel_<service>_grpc_*` metrics: lowercase
  /// letters and digits, such as `intake`.
  std::string service_name;
  /// How long `Shutdown()` lets in-flight calls run before cancelling them.
  absl::Duration drain_timeout = absl::Seconds(20);
  /// Largest message accepted or sent, in bytes.
  int max_message_bytes = 4 * 1024 * 1024;
  /// Plaintext unless a certificate is named; then TLS only, and mutual TLS
  /// with a client CA. The files are checked at `Start` and reread every
  /// `tls.refresh_interval` while the server runs.
  TlsOptions tls;
};

class CallTracker;  // Internal: the RED interceptor's shared state.

/// A running gRPC server with what every Flywheel process exposes:
/// `grpc.health.v1.Health` (the server and every service SERVING from the
/// start), server reflection, and RED metrics per method:
///
///   flywheel_<service>_grpc_requests_total{method,code}
///   flywheel_<service>_grpc_request_duration_seconds{method}   (LatencyBuckets)
///   flywheel_<service>_grpc_in_flight_requests{method}
///
/// `method` is the full name (`/flywheel.intake.v1.IntakeService/SubmitRequest`)
/// of a method the server knows; a call to any other name is counted under
/// `method="unknown"`, so a client cannot grow the label set. `code` is the
/// canonical name (`OK`, `INVALID_ARGUMENT`, ...).
///
/// All members are thread-safe. The services and `metrics` must outlive the
/// server.
class Server {
 public:
  /// Binds, registers `services` and starts serving. Fails with
  /// INVALID_ARGUMENT for bad options (a TLS file that cannot be read, does
  /// not parse or does not match, named with its field) and UNAVAILABLE
  /// when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      ServerOptions options, const std::vector<::grpc::Service*>& services,
      metrics::Metrics& metrics);

  /// Drains with the configured timeout if `Shutdown` was not called.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The port bound, the real one when the address asked for port 0.
  int port() const { return port_; }

  /// Graceful drain, in this order: health turns NOT_SERVING for the server
  /// and every service; the server keeps answering (so probes see
  /// NOT_SERVING) until no application call is in flight or `deadline`
  /// passes; then it stops accepting calls, cancels whatever still runs at
  /// `deadline`, and returns once stopped. Later calls return at once.
  /// Health and reflection calls do not hold the drain open.
  void Shutdown(absl::Time deadline);
  /// `Shutdown(now + drain_timeout)`.
  void Shutdown();

  /// Blocks until the server has stopped (after `Shutdown` from another thread).
  void Wait();

  /// Application calls (not health or reflection) running now.
  int in_flight() const;

 private:
  Server(ServerOptions options, std::shared_ptr<CallTracker> tracker);

  const ServerOptions options_;
  std::shared_ptr<CallTracker> tracker_;
  // Kept for the server's life: it rereads the TLS files on its own thread.
  std::shared_ptr<::grpc::experimental::CertificateProviderInterface> certificates_;
  std::unique_ptr<::grpc::Server> server_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace flywheel::rpc
