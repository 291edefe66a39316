#include "flywheel/grpc/guard.h"

#include <google/protobuf/descriptor.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "flywheel/log/log.h"
#include "flywheel/metrics/metrics.h"

namespace flywheel::rpc {
namespace {

// The client certificate the call's connection verified, when the server
// runs mutual TLS (a peer certificate is only there when one was asked for
// and verified).
std::optional<auth::ClientCertificate> ClientCertificateOf(
    const ::grpc::ServerContextBase& context) {
  const std::shared_ptr<const ::grpc::AuthContext> peer = context.auth_context();
  if (peer == nullptr || peer->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME).empty()) {
    return std::nullopt;
  }
  auth::ClientCertificate certificate;
  for (const char* property : {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME}) {
    for (const ::grpc::string_ref& name : peer->FindPropertyValues(property)) {
      certificate.names.emplace_back(name.data(), name.size());
    }
  }
  if (certificate.names.empty()) {
    for (const ::grpc::string_ref& name : peer->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
      certificate.names.emplace_back(name.data(), name.size());
    }
  }
  return certificate;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Guard>> Guard::Create(auth::Authenticator& authenticator,
                                                     const auth::RoleTable& table,
                                                     metrics::Metrics& metrics,
                                                     const std::string& service_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(table.service());
  if (service == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("role table names service ", table.service(), ", which is not linked in"));
  }
  std::vector<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i) methods.push_back(service->method(i)->name());
  if (absl::Status st = table.CheckCovers(methods); !st.ok()) return st;

  metrics
      .Gauge(absl::StrCat("flywheel_", service_name, "_auth_dev_mode"),
             "1 while the service takes every call without a token (auth.dev_mode).")
      .Add({})
      .Set(authenticator.dev_mode() ? 1 : 0);
  return std::unique_ptr<Guard>(new Guard(
      authenticator, table,
      metrics.Counter(absl::StrCat("flywheel_", service_name, "_auth_refusals_total"),
                      "gRPC calls refused by authentication or authorisation, by method and "
                      "status code."),
      metrics.Counter(absl::StrCat("flywheel_", service_name, "_rate_limited_total"),
                      "gRPC calls refused by a rate limit, by method and by whose limit "
                      "(tenant or caller).")));
}

Guard::Guard(auth::Authenticator& authenticator, const auth::RoleTable& table,
             prometheus::Family<prometheus::Counter>& refusals,
             prometheus::Family<prometheus::Counter>& limited)
    : authenticator_(authenticator), table_(table), refusals_(refusals), limited_(limited) {}

absl::Status Guard::Refuse(std::string_view method, absl::Status status) {
  refusals_
      .Add({{"method", std::string(method)}, {"code", absl::StatusCodeToString(status.code())}})
      .Increment();
  return status;
}

absl::StatusOr<auth::Principal> Guard::Admit(const ::grpc::ServerContextBase& context,
                                             std::string_view method) {
  std::optional<std::string_view> header;
  const auto& metadata = context.client_metadata();
  const auto [first, last] = metadata.equal_range("authorization");
  for (auto it = first; it != last; ++it) {
    if (header) {
      return Refuse(method, absl::UnauthenticatedError("more than one authorization header"));
    }
    header = std::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<auth::Principal> principal = authenticator_.Authenticate(header);
  if (!principal.ok()) return Refuse(method, principal.status());
  principal->client_certificate = ClientCertificateOf(context);
  if (absl::Status st = authenticator_.CheckServiceCertificate(*principal); !st.ok()) {
    return Refuse(method, st);
  }
  if (absl::Status allowed = table_.Allow(*principal, method); !allowed.ok()) {
    return Refuse(method, allowed);
  }
  if (auto refused = authenticator_.Limit(*principal)) {
    limited_
        .Add({{"method", std::string(method)},
              {"scope", std::string(auth::LimitScopeName(refused->scope))}})
        .Increment();
    return refused->status;
  }
  return principal;
}

absl::StatusOr<auth::Principal> Guard::AdmitFor(const ::grpc::ServerContextBase& context,
                                                std::string_view method, std::string_view tenant) {
  absl::StatusOr<auth::Principal> principal = Admit(context, method);
  if (!principal.ok()) return principal;
  // An empty tenant names nobody's data; the service's own validation
  // reports it with the request's other bad fields.
  if (tenant.empty()) return principal;
  if (absl::Status st = auth::CheckTenant(*principal, tenant); !st.ok()) return Refuse(method, st);
  return principal;
}

}  // namespace flywheel::rpc
