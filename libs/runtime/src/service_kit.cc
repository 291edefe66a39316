#include "flywheel/runtime/service_kit.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "flywheel/async/io_threads.h"
#include "flywheel/auth/authenticator.h"
#include "flywheel/core/clock.h"
#include "flywheel/core/secret_file.h"
#include "flywheel/core/status.h"
#include "flywheel/grpc/guard.h"
#include "flywheel/grpc/server.h"
#include "flywheel/kafka/event_publisher.h"
#include "flywheel/kafka/producer.h"
#include "flywheel/log/log.h"
#include "flywheel/outbox/outbox.h"
#include "flywheel/redis/async_client.h"
#include "flywheel/redis/endpoint.h"
#include "flywheel/redis/pool.h"
#include "flywheel/runtime/periodic.h"
#include "tls_settings.h"

namespace flywheel::runtime {
namespace {

// The service's name as it appears inside metric names, which take no `-`:
// `lead-scoring` exports `flywheel_lead_scoring_...`.
std::string MetricsName(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// How long a producer tries to deliver a record before the call that
// published it gives up, unless `kafka.producer.message.timeout.ms` says
// otherwise. librdkafka's own default is five minutes, far longer than any
// caller waits.
constexpr int64_t kDefaultDeliveryTimeoutMs = 10'000;

// The relay waits this much longer than the delivery timeout before it
// publishes an event another replica may still be publishing (its own
// process's publishes it always leaves alone; see RedisOutboxOptions::grace).
constexpr absl::Duration kRelayMargin = absl::Seconds(5);

// librdkafka properties under `key` (a mapping of scalars), over `defaults`.
absl::StatusOr<std::map<std::string, std::string>> Properties(
    config::Config& config, const std::string& key, std::map<std::string, std::string> defaults) {
  std::optional<std::string> raw = config.Raw(key);
  if (!raw) return defaults;
  YAML::Node node;
  try {
    node = YAML::Load(*raw);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", key, ": ", e.what()));
  }
  if (node.IsNull()) return defaults;
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", key, ": must map librdkafka property names to values"));
  }
  for (const auto& entry : node) {
    if (!entry.second.IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: ", key, ".", entry.first.as<std::string>(), ": must be a single value"));
    }
    defaults[entry.first.as<std::string>()] = entry.second.as<std::string>();
  }
  return defaults;
}

}  // namespace

struct ServiceKit::Parts {
  ServiceDeclaration declaration;
  CommonSettings settings;
  metrics::Metrics* metrics = nullptr;
  std::string policy_file;
  absl::Duration relay_interval;
  std::map<std::string, std::map<std::string, std::string>> consumer_properties;

  rpc::TlsOptions tls;
  auth::AuthSettings auth_settings;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<Reloader> auth_keys_reloader;
  std::unique_ptr<Reloader> auth_policy_reloader;
  std::unique_ptr<redis::Pool> pool;
  int io_threads = 2;
  // Declared in this order so the client goes before the threads' context.
  std::unique_ptr<async::IoThreads> io;
  std::unique_ptr<redis::AsyncClient> redis_async;
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::KafkaEventPublisher> publisher;
  std::unique_ptr<outbox::RedisOutbox> outbox;
  std::unique_ptr<Periodic> relay;
  std::unique_ptr<Reloader> reloader;
  std::vector<std::unique_ptr<kafka::Consumer>> consumers;
  std::unique_ptr<rpc::Server> server;

  // What to do to stop each started part, in the order they started.
  std::vector<std::function<void()>> stops;
  bool stopped = false;
};

// Loads the auth keys and policy and watches both files; in dev mode, says
// so as loudly as it can.
absl::Status ServiceKit::StartAuth(Parts& parts, const std::string& service,
                                   metrics::Metrics& metrics) {
  FLYWHEEL_ASSIGN_OR_RETURN(parts.authenticator, auth::Authenticator::Create(
                                                     parts.auth_settings, SystemClock::Instance()));
  if (parts.auth_settings.dev_mode) {
    log::Warn(
        "AUTH DEV MODE: every gRPC call is taken without a token, as user 'dev' with "
        "every role in every tenant. Never in a deployment; it serves loopback only.",
        {{"grpc_listen", parts.settings.grpc_listen}});
    return absl::OkStatus();
  }
  auth::Authenticator* authenticator = parts.authenticator.get();
  // The first loads happened in Create; these reload on change or SIGHUP.
  FLYWHEEL_ASSIGN_OR_RETURN(
      parts.auth_keys_reloader,
      Reloader::Start(
          {.path = parts.auth_settings.key_file, .service = service, .what = "auth_keys"},
          [authenticator](const std::string& path) { return authenticator->ReloadKeys(path); },
          metrics));
  parts.stops.push_back([p = &parts] { p->auth_keys_reloader.reset(); });
  FLYWHEEL_ASSIGN_OR_RETURN(
      parts.auth_policy_reloader,
      Reloader::Start(
          {.path = parts.auth_settings.policy_file, .service = service, .what = "auth_policy"},
          [authenticator](const std::string& path) { return authenticator->ReloadPolicy(path); },
          metrics));
  parts.stops.push_back([p = &parts] { p->auth_policy_reloader.reset(); });
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ServiceKit>> ServiceKit::Connect(ServiceDeclaration declaration,
                                                                const CommonSettings& settings,
                                                                config::Config& config,
                                                                metrics::Metrics& metrics,
                                                                const ReadOwnConfig& read_own) {
  auto parts = std::make_unique<Parts>();
  parts->settings = settings;
  parts->metrics = &metrics;

  // Phase 1: every key, the kit's and the service's, before anything connects.
  if (!declaration.policy_file_key.empty()) {
    parts->policy_file = config.Get<std::string>(declaration.policy_file_key, "");
  }
  parts->relay_interval =
      config.Get<absl::Duration>("outbox.relay_interval", absl::Seconds(5),
                                 config::InRange(absl::Milliseconds(50), absl::Minutes(10)));
  // Every Kafka client (producer, consumers, topic creation) starts from
  // `kafka.client`: TLS and SASL settings are said once. Secrets come
  // from files (a mounted Kubernetes Secret), never from the config text.
  using PropertyMap = std::map<std::string, std::string>;
  FLYWHEEL_ASSIGN_OR_RETURN(PropertyMap client, Properties(config, "kafka.client", {}));
  const std::string sasl_password_file = config.Get<std::string>("kafka.sasl.password_file", "");
  const std::string redis_username = config.Get<std::string>("redis.username", "");
  const std::string redis_password_file = config.Get<std::string>("redis.password_file", "");
  auto over_client = [&client](const PropertyMap& own) {
    PropertyMap merged = client;
    for (const auto& [key, value] : own) merged[key] = value;
    return merged;
  };
  PropertyMap producer_defaults = over_client(declaration.producer_properties);
  producer_defaults.try_emplace("message.timeout.ms", absl::StrCat(kDefaultDeliveryTimeoutMs));
  FLYWHEEL_ASSIGN_OR_RETURN(PropertyMap producer_properties,
                            Properties(config, "kafka.producer", producer_defaults));
  for (const ConsumerDeclaration& consumer : declaration.consumers) {
    FLYWHEEL_ASSIGN_OR_RETURN(
        parts->consumer_properties[consumer.name],
        Properties(config, "kafka.consumer." + consumer.name, over_client(consumer.properties)));
  }
  parts->io_threads = static_cast<int>(
      config.Get<int64_t>("io.threads", 2, config::InRange(int64_t{1}, int64_t{64})));
  parts->auth_settings = auth::ReadAuthSettings(config, settings.grpc_listen);
  parts->tls = ReadTlsSettings(config);
  if (read_own) FLYWHEEL_RETURN_IF_ERROR(read_own(config));
  FLYWHEEL_RETURN_IF_ERROR(config.Check());
  if (!sasl_password_file.empty()) {
    FLYWHEEL_ASSIGN_OR_RETURN(std::string password,
                              ReadSecretFile(sasl_password_file, "kafka.sasl.password_file"));
    client["sasl.password"] = password;
    producer_properties["sasl.password"] = password;
    for (auto& [name, properties] : parts->consumer_properties) {
      properties["sasl.password"] = password;
    }
  }
  redis::ConnectionOptions redis_connection{.username = redis_username};
  if (!redis_password_file.empty()) {
    FLYWHEEL_ASSIGN_OR_RETURN(redis_connection.password,
                              ReadSecretFile(redis_password_file, "redis.password_file"));
  }

  int64_t delivery_timeout_ms = kDefaultDeliveryTimeoutMs;
  if (!absl::SimpleAtoi(producer_properties["message.timeout.ms"], &delivery_timeout_ms) ||
      delivery_timeout_ms <= 0) {
    return absl::InvalidArgumentError(
        "config: kafka.producer.message.timeout.ms: must be a positive number of milliseconds");
  }

  // Then who may call: keys and auth policy, kept live.
  FLYWHEEL_RETURN_IF_ERROR(StartAuth(*parts, MetricsName(declaration.name), metrics));

  // Then connect, in order.
  FLYWHEEL_ASSIGN_OR_RETURN(redis_connection.endpoint,
                            redis::ParseEndpoint(settings.redis_endpoint));
  FLYWHEEL_ASSIGN_OR_RETURN(parts->pool, redis::Pool::Create({.connection = redis_connection}));
  parts->io = std::make_unique<async::IoThreads>(parts->io_threads);
  FLYWHEEL_ASSIGN_OR_RETURN(
      parts->redis_async,
      redis::AsyncClient::Create(parts->io->context(), {.connection = redis_connection}));
  // Stopped last: the server and consumers that run coroutines stop first.
  parts->stops.push_back([p = parts.get()] { p->io->Stop(); });
  std::vector<kafka::TopicSpec> topics = declaration.owned_topics;
  for (kafka::TopicSpec& topic : topics) topic.name = settings.Topic(topic.name);
  FLYWHEEL_RETURN_IF_ERROR(kafka::EnsureTopics(settings.kafka_bootstrap_servers, topics,
                                               kafka::kEnsureTopicsTimeout, client));
  FLYWHEEL_ASSIGN_OR_RETURN(
      parts->producer,
      kafka::Producer::Create({.bootstrap_servers = settings.kafka_bootstrap_servers,
                               .client_id = "flywheel-" + declaration.name,
                               .properties = producer_properties},
                              &metrics));
  // The service's own topics are where it writes most: their metadata now,
  // not on the first record (which waited up to a second for it).
  std::vector<std::string> owned;
  for (const kafka::TopicSpec& topic : topics) owned.push_back(topic.name);
  FLYWHEEL_RETURN_IF_ERROR(parts->producer->Prepare(owned, std::chrono::seconds(10)));
  parts->stops.push_back([p = parts.get()] {
    if (absl::Status st = p->producer->Flush(std::chrono::seconds(10)); !st.ok()) {
      log::Warn("producer did not flush", {{"error", st.ToString()}});
    }
  });
  parts->publisher = std::make_unique<kafka::KafkaEventPublisher>(*parts->producer,
                                                                  "//flywheel/" + declaration.name);
  // Each service its own outbox (`<prefix><service>:outbox:{tag}:...`): two
  // services' events for one request must not hold each other back.
  parts->outbox = std::make_unique<outbox::RedisOutbox>(
      *parts->pool, *parts->publisher,
      outbox::RedisOutboxOptions{.key_prefix = settings.redis_key_prefix + declaration.name + ":",
                                 .grace = absl::Milliseconds(delivery_timeout_ms) + kRelayMargin},
      metrics, SystemClock::Instance(), parts->redis_async.get());
  parts->relay = Periodic::Start(
      declaration.name + ".outbox_relay", parts->relay_interval, [outbox = parts->outbox.get()] {
        if (auto pass = outbox->RelayOnce(); !pass.ok()) {
          log::Warn("outbox relay pass failed", {{"error", pass.status().ToString()}});
        }
      });
  parts->stops.push_back([p = parts.get()] { p->relay->Stop(); });
  parts->declaration = std::move(declaration);
  return std::unique_ptr<ServiceKit>(new ServiceKit(std::move(parts)));
}

ServiceKit::ServiceKit(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServiceKit::~ServiceKit() { Stop(); }

const CommonSettings& ServiceKit::settings() const { return parts_->settings; }
metrics::Metrics& ServiceKit::metrics() { return *parts_->metrics; }
redis::Pool& ServiceKit::redis() { return *parts_->pool; }
asio::io_context& ServiceKit::io() { return parts_->io->context(); }
redis::AsyncClient& ServiceKit::redis_async() { return *parts_->redis_async; }
kafka::Producer& ServiceKit::producer() { return *parts_->producer; }
kafka::EventPublisher& ServiceKit::publisher() { return *parts_->publisher; }
outbox::RedisOutbox& ServiceKit::outbox() { return *parts_->outbox; }
std::string ServiceKit::Topic(const std::string& name) const {
  return parts_->settings.Topic(name);
}
const std::string& ServiceKit::policy_file() const { return parts_->policy_file; }
auth::Authenticator& ServiceKit::authenticator() { return *parts_->authenticator; }

absl::StatusOr<std::unique_ptr<rpc::Guard>> ServiceKit::Guard(const auth::RoleTable& table) {
  return rpc::Guard::Create(*parts_->authenticator, table, *parts_->metrics,
                            MetricsName(parts_->declaration.name));
}

absl::Status ServiceKit::WatchPolicy(Reloader::Load load) {
  if (parts_->policy_file.empty()) return absl::OkStatus();
  FLYWHEEL_ASSIGN_OR_RETURN(parts_->reloader,
                            Reloader::Start({.path = parts_->policy_file,
                                             .service = MetricsName(parts_->declaration.name)},
                                            std::move(load), *parts_->metrics));
  parts_->stops.push_back([p = parts_.get()] { p->reloader.reset(); });
  return absl::OkStatus();
}

absl::Status ServiceKit::ReloadPolicyNow() {
  if (!parts_->reloader) {
    return absl::FailedPreconditionError(parts_->declaration.name +
                                         " runs on its shipped policy; no file to reload");
  }
  return parts_->reloader->ReloadNow();
}

absl::Status ServiceKit::Consume(const std::string& name, kafka::EventHandler handler) {
  if (!handler) return absl::InvalidArgumentError("consumer '" + name + "' has no handler");
  return Consume(name, kafka::PerEvent(std::move(handler)));
}

absl::Status ServiceKit::Consume(const std::string& name, kafka::BatchHandler handler) {
  const ServiceDeclaration& d = parts_->declaration;
  const ConsumerDeclaration* declared = nullptr;
  for (const ConsumerDeclaration& c : d.consumers) {
    if (c.name == name) declared = &c;
  }
  if (declared == nullptr) {
    return absl::InvalidArgumentError("consumer '" + name + "' is not declared by " + d.name);
  }
  std::vector<std::string> topics;
  for (const std::string& topic : declared->topics) topics.push_back(Topic(topic));
  const std::string group = declared->group.empty()
                                ? absl::StrCat("flywheel-", d.name, "-", declared->name)
                                : declared->group;
  FLYWHEEL_ASSIGN_OR_RETURN(
      std::unique_ptr<kafka::Consumer> consumer,
      kafka::Consumer::Create({.bootstrap_servers = parts_->settings.kafka_bootstrap_servers,
                               .group_id = Topic(group),
                               .group_instance_id = parts_->settings.kafka_group_instance_id,
                               .topics = topics,
                               .dead_letter_topic = Topic(d.dead_letter_topic),
                               .handler_name = d.name + "." + declared->name,
                               .properties = parts_->consumer_properties[name]},
                              std::move(handler), parts_->metrics));
  FLYWHEEL_RETURN_IF_ERROR(consumer->Start());
  kafka::Consumer* started = consumer.get();
  parts_->consumers.push_back(std::move(consumer));
  parts_->stops.push_back([started] { started->Stop(); });
  return absl::OkStatus();
}

absl::Status ServiceKit::Serve(const std::vector<::grpc::Service*>& services) {
  FLYWHEEL_ASSIGN_OR_RETURN(
      parts_->server,
      rpc::Server::Start({.address = parts_->settings.grpc_listen,
                          .service_name = MetricsName(parts_->declaration.name),
                          .drain_timeout = parts_->settings.drain_timeout,
                          .max_message_bytes = parts_->declaration.max_grpc_message_bytes,
                          .tls = parts_->tls},
                         services, *parts_->metrics));
  parts_->stops.push_back([p = parts_.get()] { p->server->Shutdown(); });
  return absl::OkStatus();
}

int ServiceKit::grpc_port() const { return parts_->server ? parts_->server->port() : 0; }

void ServiceKit::Stop() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  for (auto it = parts_->stops.rbegin(); it != parts_->stops.rend(); ++it) (*it)();
}

}  // namespace flywheel::runtime
