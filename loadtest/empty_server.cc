// flywheel-loadtest-empty: one empty unary method served by libs/grpc's
// rpc::Server, with everything that server adds to every call (health,
// reflection, RED metrics). The load generator drives it exactly as it drives
// SubmitRequest, so the ratio of the two rates is what intake's own work costs.
//
//   flywheel-loadtest-empty --listen=127.0.0.1:0 [--api=callback|sync]
//
// Prints the port bound on stdout, serves until SIGTERM or SIGINT.
#include <grpcpp/grpcpp.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "empty.grpc.pb.h"
#include "flywheel/grpc/server.h"
#include "flywheel/grpc/termination.h"
#include "flywheel/metrics/metrics.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC address to bind");
ABSL_FLAG(std::string, api, "callback",
          "gRPC server API the method is written against: callback (answers on the poller "
          "thread) or sync (gRPC's thread pool)");

namespace flywheel::loadtest {
namespace {

class CallbackEmpty final : public EmptyService::CallbackService {
  ::grpc::ServerUnaryReactor* Empty(::grpc::CallbackServerContext* context, const EmptyRequest*,
                                    EmptyResponse*) override {
    ::grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(::grpc::Status::OK);
    return reactor;
  }
};

class SyncEmpty final : public EmptyService::Service {
  ::grpc::Status Empty(::grpc::ServerContext*, const EmptyRequest*, EmptyResponse*) override {
    return ::grpc::Status::OK;
  }
};

int Run() {
  if (!rpc::BlockTerminationSignals().ok()) return 1;
  // Debian's abseil checks every absl::Mutex for deadlocks, as the services
  // turn off too.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string api = absl::GetFlag(FLAGS_api);
  CallbackEmpty callback;
  SyncEmpty sync;
  ::grpc::Service* service = nullptr;
  if (api == "callback") {
    service = &callback;
  } else if (api == "sync") {
    service = &sync;
  } else {
    std::fprintf(stderr, "--api must be callback or sync, not %s\n", api.c_str());
    return 2;
  }
  metrics::Metrics metrics;
  auto server =
      rpc::Server::Start({.address = absl::GetFlag(FLAGS_listen), .service_name = "loadtest_empty"},
                         {service}, metrics);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("%d\n", (*server)->port());
  std::fflush(stdout);
  (void)rpc::WaitForTerminationSignal();
  (*server)->Shutdown(absl::Now() + absl::Seconds(2));
  return 0;
}

}  // namespace
}  // namespace flywheel::loadtest

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return flywheel::loadtest::Run();
}
