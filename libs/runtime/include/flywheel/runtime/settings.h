#pragma once

#include <string>

#include "absl/time/time.h"
#include "flywheel/config/config.h"

namespace flywheel::runtime {

/// Settings every service process has.
struct CommonSettings {
  std::string grpc_listen;              ///< `grpc.listen`, default `0.0.0.0:8080`
  std::string metrics_listen;           ///< `metrics.listen`, default `0.0.0.0:9464`
  std::string kafka_bootstrap_servers;  ///< `kafka.bootstrap_servers`, required
  std::string redis_endpoint;           ///< `redis.endpoint`, required when `needs_redis`
  absl::Duration drain_timeout;         ///< `shutdown.drain_timeout`, default 20s
  /// `kafka.topic_prefix`, default empty: put before every topic and
  /// consumer group name, so several installations (or tests) share a cluster.
  std::string kafka_topic_prefix;
  /// `kafka.group_instance_id`, default the host name (in Kubernetes, the
  /// pod's name): every consumer group member of this process uses it as its
  /// static `group.instance.id`, so a replica that restarts takes its
  /// partitions back at once. Two replicas must never share it; set it
  /// empty for dynamic membership.
  std::string kafka_group_instance_id;
  /// `redis.key_prefix`, default empty: put before every Redis key.
  std::string redis_key_prefix;

  std::string Topic(const std::string& name) const { return kafka_topic_prefix + name; }
};

/// The config file named on the command line (`--config FILE`), else
/// `FLYWHEEL_CONFIG`, else empty (the service then runs on defaults and
/// environment overrides alone).
std::string ConfigPath(int argc, char** argv);

/// Loads the config named by `ConfigPath`, or the environment alone when no
/// file is named; exits with code 2 and one line when it cannot.
config::Config LoadConfigOrExit(int argc, char** argv);

/// Reads the common settings and applies `log.level`; errors are recorded
/// in `config` for its `CheckOrExit()`. Call once at start-up.
CommonSettings ReadCommonSettings(config::Config& config, const std::string& service,
                                  bool needs_redis);

}  // namespace flywheel::runtime
