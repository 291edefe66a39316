#include "flywheel/runtime/settings.h"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "flywheel/log/log.h"

namespace flywheel::runtime {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace

std::string ConfigPath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.starts_with("--config=")) return std::string(arg.substr(9));
  }
  const char* env = std::getenv("FLYWHEEL_CONFIG");
  return env ? env : "";
}

config::Config LoadConfigOrExit(int argc, char** argv) {
  const std::string path = ConfigPath(argc, argv);
  if (!path.empty()) return config::LoadOrExit(path);
  auto config = config::Config::FromString("{}", "(no config file)", config::ProcessEnvironment());
  if (!config.ok()) config::ExitOnConfigError(config.status());
  return *std::move(config);
}

CommonSettings ReadCommonSettings(config::Config& config, const std::string& service,
                                  bool needs_redis) {
  CommonSettings s;
  log::SetService(service);
  log::SetLevel(config.Get<log::Level>("log.level", log::Level::kInfo));
  s.grpc_listen = config.Get<std::string>("grpc.listen", "0.0.0.0:8080", config::HostPort());
  s.metrics_listen = config.Get<std::string>("metrics.listen", "0.0.0.0:9464", config::HostPort());
  s.kafka_bootstrap_servers =
      config.Required<std::string>("kafka.bootstrap_servers", config::NonEmpty());
  if (needs_redis)
    s.redis_endpoint = config.Required<std::string>("redis.endpoint", config::HostPort());
  s.drain_timeout =
      config.Get<absl::Duration>("shutdown.drain_timeout", absl::Seconds(20),
                                 config::InRange(absl::ZeroDuration(), absl::Minutes(10)));
  s.kafka_topic_prefix = config.Get<std::string>("kafka.topic_prefix", "");
  s.redis_key_prefix = config.Get<std::string>("redis.key_prefix", "");
  s.kafka_group_instance_id = config.Get<std::string>("kafka.group_instance_id", HostName());
  return s;
}

}  // namespace flywheel::runtime
