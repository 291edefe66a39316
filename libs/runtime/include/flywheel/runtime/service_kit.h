#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "flywheel/kafka/admin.h"
#include "flywheel/kafka/consumer.h"
#include "flywheel/runtime/live_policy.h"
#include "flywheel/runtime/reloader.h"
#include "flywheel/runtime/settings.h"

namespace grpc {
class Service;
}
namespace flywheel::metrics {
class Metrics;
}
namespace flywheel::redis {
class AsyncClient;
class Pool;
}  // namespace flywheel::redis
namespace flywheel::kafka {
class EventPublisher;
class Producer;
}  // namespace flywheel::kafka
namespace flywheel::outbox {
class RedisOutbox;
}
namespace flywheel::auth {
class Authenticator;
class RoleTable;
}  // namespace flywheel::auth
namespace flywheel::rpc {
class Guard;
}

namespace flywheel::runtime {

/// A consumer a service runs. `name` names it everywhere: the handler in
/// metrics and logs (`<service>.<name>`), its config keys
/// (`kafka.consumer.<name>.<librdkafka property>`, which win over
/// `properties`), and, unless `group` is set, its group
/// (`flywheel-<service>-<name>`).
struct ConsumerDeclaration {
  std::string name;
  /// Catalog names (events::k...Topic); the kit adds the topic prefix.
  std::vector<std::string> topics;
  /// The consumer group without prefix; empty: `flywheel-<service>-<name>`.
  std::string group;
  /// librdkafka properties this consumer needs by default.
  std::map<std::string, std::string> properties;
};

/// What a service is made of. The kit owns everything declared here; the
/// service's `*_app.cc` holds only its domain objects and how they connect.
struct ServiceDeclaration {
  /// `intake`, `routing`: names metrics, logs, the CloudEvents source
  /// (`//flywheel/<name>`) and the producer's client id. In metric names a
  /// `-` becomes `_` (`lead-scoring`: `flywheel_lead_scoring_...`).
  std::string name;
  /// The topics this service owns and creates at start (catalog names).
  /// Every topic has exactly one owner; a service consuming another's topic
  /// waits for it to appear.
  std::vector<kafka::TopicSpec> owned_topics;
  /// Where its consumers put what they cannot handle (catalog name; owned).
  std::string dead_letter_topic;
  std::vector<ConsumerDeclaration> consumers;
  /// librdkafka properties of the service's producer by default; config
  /// keys `kafka.producer.<property>` win.
  std::map<std::string, std::string> producer_properties;
  /// The config key naming the service's policy file, when it has one
  /// (`intake.policy_file`); unset, the shipped policy stays in force.
  std::string policy_file_key;
  /// Largest gRPC message, in bytes.
  int max_grpc_message_bytes = 4 * 1024 * 1024;
};

/// The parts every service is made of, started in order and stopped in the
/// exact reverse: each part's stop is pushed on a stack the moment the part
/// has started.
///
/// Two phases:
/// 1. `Connect` reads every config key the kit owns (`kafka.producer.*`,
///    `kafka.consumer.<name>.*`, `outbox.relay_interval`, `io.threads`, the
///    policy file key, `auth.*`, `grpc.tls.*`), lets the service read its own
///    through `read_own`, and checks the config before it touches anything
///    (so a bad key, no auth configured, or a TLS file that cannot be read or
///    does not match, is always exit 2); then it loads the auth keys and
///    policy (kept live like a policy file), connects Redis, creates the
///    owned topics, starts the producer, the publisher and the outbox with
///    its relay.
/// 2. The service builds its domain objects on those parts, then calls
///    `WatchPolicy`, `Consume` for each declared consumer and `Serve`.
///
/// `Stop` (or the destructor) drains in reverse: gRPC server, consumers,
/// policy reloader, outbox relay, producer flush. Not thread-safe; built and
/// stopped on one thread.
class ServiceKit {
 public:
  /// Reads the service's own config keys; an error is a config error.
  using ReadOwnConfig = std::function<absl::Status(config::Config&)>;

  static absl::StatusOr<std::unique_ptr<ServiceKit>> Connect(
      ServiceDeclaration declaration, const CommonSettings& settings, config::Config& config,
      metrics::Metrics& metrics, const ReadOwnConfig& read_own = nullptr);

  ~ServiceKit();
  ServiceKit(const ServiceKit&) = delete;
  ServiceKit& operator=(const ServiceKit&) = delete;

  const CommonSettings& settings() const;
  metrics::Metrics& metrics();
  redis::Pool& redis();
  /// Where the service's coroutines run: `io.threads` threads (default 2),
  /// stopped after the server and the consumers.
  asio::io_context& io();
  /// Redis for coroutines, on `io()`.
  redis::AsyncClient& redis_async();
  kafka::Producer& producer();
  /// Publishes with this service's CloudEvents source.
  kafka::EventPublisher& publisher();
  /// The service's transactional outbox, keyed under
  /// `<redis.key_prefix><service name>:outbox:`; its relay runs every
  /// `outbox.relay_interval`.
  outbox::RedisOutbox& outbox();
  /// A catalog topic name with this installation's prefix.
  std::string Topic(const std::string& name) const;
  /// The policy file the config names; empty when the shipped policy rules.
  const std::string& policy_file() const;

  /// Who calls: the `auth.*` settings, keys, auth policy and rate limits.
  auth::Authenticator& authenticator();
  /// The guard of one gRPC service of this process, for its handlers to
  /// call first (`rpc::Guard`); fails when `table` misses a method.
  /// `table` must outlive the kit.
  absl::StatusOr<std::unique_ptr<rpc::Guard>> Guard(const auth::RoleTable& table);

  /// Keeps the policy file live (SIGHUP, file change) with `load`, which
  /// must swap the policy in only when the file is wholly valid. Loads it
  /// once now: an invalid first file fails the start. No-op without a file.
  absl::Status WatchPolicy(Reloader::Load load);
  /// `WatchPolicy` for the usual case: each valid file `load` reads is
  /// swapped into `holder` whole; an invalid one leaves it as it was.
  /// `holder` must outlive the kit's reloader (declare it after the kit).
  template <typename Policy>
  absl::Status WatchPolicy(LivePolicy<Policy>& holder,
                           absl::StatusOr<Policy> (*load)(const std::string&)) {
    return WatchPolicy([&holder, load](const std::string& path) -> absl::Status {
      absl::StatusOr<Policy> policy = load(path);
      if (!policy.ok()) return policy.status();
      holder.Set(std::make_shared<const Policy>(*std::move(policy)));
      return absl::OkStatus();
    });
  }
  /// Reloads the policy file now, as SIGHUP would. FAILED_PRECONDITION when
  /// the service runs on its shipped policy (no file named).
  absl::Status ReloadPolicyNow();

  /// Starts the declared consumer `name` with `handler`: one event at a
  /// time per partition, or a batch of one partition's events at a time
  /// (see kafka::BatchHandler).
  absl::Status Consume(const std::string& name, kafka::EventHandler handler);
  absl::Status Consume(const std::string& name, kafka::BatchHandler handler);

  /// Serves `services` on `grpc.listen` with health, reflection, RED
  /// metrics and the graceful drain; in plaintext, or with TLS or mutual
  /// TLS as `grpc.tls.*` say.
  absl::Status Serve(const std::vector<::grpc::Service*>& services);
  int grpc_port() const;

  /// Drains and stops every started part in reverse order. Idempotent.
  void Stop();

 private:
  struct Parts;
  static absl::Status StartAuth(Parts& parts, const std::string& service,
                                metrics::Metrics& metrics);
  explicit ServiceKit(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace flywheel::runtime
