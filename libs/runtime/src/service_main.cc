#include "flywheel/runtime/service_main.h"

#include "flywheel/grpc/termination.h"
#include "flywheel/log/log.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::runtime {

int ServiceMain(int argc, char** argv, const std::string& service, bool needs_redis,
                const AppFactory& start) {
  // Before any thread starts, so every thread inherits the mask and the
  // signal is only ever taken by WaitForTerminationSignal.
  if (absl::Status st = rpc::BlockTerminationSignals(); !st.ok()) {
    log::Error("cannot block termination signals", {{"error", st.ToString()}});
    return 1;
  }
  config::Config config = LoadConfigOrExit(argc, argv);
  const CommonSettings settings = ReadCommonSettings(config, service, needs_redis);
  config.CheckOrExit();

  metrics::Metrics metrics;
  auto metrics_port = metrics.Serve(settings.metrics_listen);
  if (!metrics_port.ok()) {
    log::Error("cannot serve metrics", {{"error", metrics_port.status().ToString()}});
    return 1;
  }
  auto app = start(settings, metrics);
  if (!app.ok()) {
    log::Error("failed to start", {{"error", app.status().ToString()}});
    return 1;
  }
  log::Info("serving", {{"grpc_port", (*app)->grpc_port()}, {"metrics_port", *metrics_port}});

  auto signal = rpc::WaitForTerminationSignal();
  log::Info("draining", {{"signal", signal.ok() ? *signal : -1}});
  (*app)->Stop();
  log::Info("stopped");
  return 0;
}

}  // namespace flywheel::runtime
