#include "flywheel/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <exception>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "call_tracker.h"
#include "flywheel/log/log.h"
#include "flywheel/metrics/metrics.h"
#include "grpc/health/v1/health.pb.h"

namespace flywheel::rpc {
namespace {

// Copies the names of the services the server ended up with (ours, health,
// reflection) at the end of BuildAndStart, so health can be set per service.
class ServiceNamesPlugin : public ::grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::vector<std::string>* out) : out_(out) {}
  std::string name() override { return "flywheel_service_names"; }
  void InitServer(::grpc::ServerInitializer*) override {}
  void Finish(::grpc::ServerInitializer* si) override { *out_ = *si->GetServiceList(); }
  void ChangeArguments(const std::string&, void*) override {}

 private:
  std::vector<std::string>* out_;
};

class ServiceNamesOption : public ::grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::vector<std::string>* out) : out_(out) {}
  void UpdateArguments(::grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<::grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(out_));
  }

 private:
  std::vector<std::string>* out_;
};

absl::Status CheckOptions(const ServerOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("server address is empty");
  for (const char* what :
       {"_grpc_requests_total", "_grpc_request_duration_seconds", "_grpc_in_flight_requests"}) {
    if (absl::Status st = metrics::CheckName(absl::StrCat("flywheel_", options.service_name, what));
        !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "service_name '", options.service_name,
          "' must be lowercase letters, digits and underscores, starting with a letter"));
    }
  }
  if (options.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("drain_timeout must not be negative");
  }
  if (options.max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  return CheckTlsOptions(options.tls);
}

// gRPC's own watcher reads the files once now and then every
// `refresh_interval` on a thread of its own; a change is used from the next
// handshake on. A file that cannot be read at a refresh withdraws the
// credential until a later refresh reads it again, so replace files by
// renaming, never by deleting and rewriting.
std::shared_ptr<::grpc::experimental::CertificateProviderInterface> WatchCertificates(
    const TlsOptions& tls) {
  const auto seconds = static_cast<unsigned int>(absl::ToInt64Seconds(tls.refresh_interval));
  return std::make_shared<::grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file, tls.cert_file, tls.client_ca_file, seconds);
}

std::shared_ptr<::grpc::ServerCredentials> Credentials(
    const TlsOptions& tls,
    const std::shared_ptr<::grpc::experimental::CertificateProviderInterface>& certificates) {
  if (!tls.enabled()) return ::grpc::InsecureServerCredentials();
  ::grpc::experimental::TlsServerCredentialsOptions options(certificates);
  options.watch_identity_key_cert_pairs();
  if (tls.mutual()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return ::grpc::experimental::TlsServerCredentials(options);
}

const char* TransportName(const TlsOptions& tls) {
  if (tls.mutual()) return "mutual tls";
  return tls.enabled() ? "tls" : "plaintext";
}

}  // namespace

Server::Server(ServerOptions options, std::shared_ptr<CallTracker> tracker)
    : options_(std::move(options)), tracker_(std::move(tracker)) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options,
                                                      const std::vector<::grpc::Service*>& services,
                                                      metrics::Metrics& metrics) {
  if (absl::Status st = CheckOptions(options); !st.ok()) return st;
  for (::grpc::Service* service : services) {
    if (service == nullptr) return absl::InvalidArgumentError("a service passed to Start is null");
  }

  std::shared_ptr<CallTracker> tracker;
  try {
    tracker = std::make_shared<CallTracker>(metrics, options.service_name);
  } catch (const std::exception& e) {
    // The names were checked, so this is a family of another type already
    // registered under the same name.
    return absl::InvalidArgumentError(
        absl::StrCat("cannot register gRPC metrics for '", options.service_name, "': ", e.what()));
  }

  static std::once_flag process_setup;
  std::call_once(process_setup, [] {
    // gRPC serves grpc.health.v1.Health from upb messages of its own, unknown
    // to the C++ descriptor pool that reflection answers from: `grpcurl list`
    // would show the service but `describe` and `grpcurl ... Health/Check`
    // could not resolve it. Naming a message of our copy of health.proto
    // links its generated code into every server binary, which registers the
    // file in the generated pool.
    (void)::grpc::health::v1::HealthCheckRequest::descriptor();
    ::grpc::EnableDefaultHealthCheckService(true);
    ::grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });

  std::unique_ptr<Server> server(new Server(std::move(options), tracker));
  const ServerOptions& opts = server->options_;

  if (opts.tls.enabled()) server->certificates_ = WatchCertificates(opts.tls);
  ::grpc::ServerBuilder builder;
  builder.AddListeningPort(opts.address, Credentials(opts.tls, server->certificates_),
                           &server->port_);
  // Without this a second process could bind the same port and split traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Room for a bearer token up to auth.max_token_bytes' upper bound, so an
  // oversized one is refused by the Guard with UNAUTHENTICATED; beyond this
  // gRPC refuses the call itself before any handler runs.
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, 80 * 1024);
  builder.SetMaxReceiveMessageSize(opts.max_message_bytes);
  builder.SetMaxSendMessageSize(opts.max_message_bytes);
  for (::grpc::Service* service : services) builder.RegisterService(service);
  builder.SetOption(std::make_unique<ServiceNamesOption>(&server->service_names_));
  std::vector<std::unique_ptr<::grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(std::make_unique<RedInterceptorFactory>(tracker));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start gRPC server on ", opts.address,
                     " (address invalid or in use, or a service registered twice)"));
  }

  ::grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  if (health == nullptr) return absl::InternalError("gRPC health service is not enabled");
  health->SetServingStatus("", true);
  for (const std::string& name : server->service_names_) health->SetServingStatus(name, true);

  log::Info("grpc server started", {{"address", opts.address},
                                    {"port", server->port_},
                                    {"transport", TransportName(opts.tls)},
                                    {"services", server->service_names_}});
  return server;
}

Server::~Server() {
  if (server_ != nullptr) Shutdown();
}

void Server::Shutdown() { Shutdown(absl::Now() + options_.drain_timeout); }

void Server::Shutdown(absl::Time deadline) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;

  // First tell probes and load balancers, while still answering them.
  server_->GetHealthCheckService()->SetServingStatus(false);
  log::Info("grpc server draining", {{"in_flight", tracker_->in_flight()}});
  const bool idle = tracker_->AwaitIdle(deadline);

  // Stop accepting; calls still running at the deadline are cancelled.
  server_->Shutdown(absl::ToChronoTime(deadline));
  log::Info("grpc server stopped", {{"drained", idle}});
}

void Server::Wait() { server_->Wait(); }

int Server::in_flight() const { return tracker_->in_flight(); }

}  // namespace flywheel::rpc
