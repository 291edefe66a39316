#include "flywheel/runtime/service_main.h"

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "flywheel/grpc/termination.h"
#include "flywheel/log/log.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::runtime {
namespace {

// `--validate FILE`: the file's path, or empty when not asked.
std::string ValidatePath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--validate" && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with("--validate=")) return std::string(arg.substr(11));
  }
  return "";
}

int Validate(const ServiceSpec& spec, const std::string& path) {
  if (!spec.validate) {
    std::cerr << "flywheel-" << spec.name << " has no policy file to validate\n";
    return 2;
  }
  absl::Status status = spec.validate(path);
  if (status.ok()) {
    std::cout << path << ": ok\n";
    return 0;
  }
  // Policy problems already name the file on each line; say it only once.
  const std::string message(status.message());
  if (message.find(path) == std::string::npos) std::cerr << path << ": ";
  std::cerr << message << "\n";
  return 2;
}

}  // namespace

int ServiceMain(int argc, char** argv, const ServiceSpec& spec) {
  if (std::string path = ValidatePath(argc, argv); !path.empty()) return Validate(spec, path);

  // Debian builds abseil with mutex deadlock detection on, which tracks
  // every absl::Mutex in a global graph: measurable on every gRPC call.
  // Tests keep it; a serving process does not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Before any thread starts, so every thread inherits the mask: termination
  // signals are taken only by WaitForTerminationSignal, SIGHUP only by a
  // Reloader.
  if (absl::Status st = rpc::BlockTerminationSignals(); !st.ok()) {
    log::Error("cannot block termination signals", {{"error", st.ToString()}});
    return 1;
  }
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hangup, nullptr);

  config::Config config = LoadConfigOrExit(argc, argv);
  const CommonSettings settings = ReadCommonSettings(config, spec.name, spec.needs_redis);
  // The service's own keys are read by `start`; until then they would look
  // unknown, so only the values read so far are checked here.
  if (absl::Status st = config.CheckRead(); !st.ok()) config::ExitOnConfigError(st);

  // The app reads and checks its own keys before it connects or binds
  // anything, so a config error always ends in exit 2, never in a port
  // clash; /metrics is served once the app is up.
  metrics::Metrics metrics;
  auto app = spec.start(settings, config, metrics);
  if (!app.ok()) {
    config.CheckOrExit();  // a bad service-specific key is a config error: exit 2
    log::Error("failed to start", {{"error", app.status().ToString()}});
    return 1;
  }
  config.CheckOrExit();
  auto metrics_port = metrics.Serve(settings.metrics_listen);
  if (!metrics_port.ok()) {
    log::Error("cannot serve metrics", {{"error", metrics_port.status().ToString()}});
    (*app)->Stop();
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
