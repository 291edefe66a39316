#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "flywheel/auth/authenticator.h"
#include "flywheel/auth/principal.h"
#include "flywheel/auth/role_table.h"

namespace grpc {
class ServerContextBase;
}
namespace flywheel::metrics {
class Metrics;
}
namespace prometheus {
class Counter;
template <typename T>
class Family;
}  // namespace prometheus

namespace flywheel::rpc {

/// The one door every application call of a service goes through, first
/// thing in its handler, with the synchronous API and the callback API
/// alike (both contexts are a `ServerContextBase`):
///
///   ::grpc::Status SubmitRequest(::grpc::ServerContext* context, ...) {
///     auto principal = guard_.Admit(*context, "SubmitRequest");
///     if (!principal.ok()) return rpc::ToGrpcStatus(principal.status());
///     ...  // hand *principal to the service's logic
///   }
///
/// `Admit` reads the `authorization` metadata (exactly one `Bearer <JWT>`),
/// verifies it (`auth::Authenticator`), checks the tenant is served; under
/// mutual TLS it puts the verified client certificate's names in the
/// principal and refuses a token with the `service` role whose certificate
/// is not one of the auth policy's `service_certificates`; then it checks
/// the principal holds a role the service's `RoleTable` allows for the
/// method, and takes a token from its tenant's and its own rate-limit
/// buckets. Refusals, in that order: UNAUTHENTICATED, PERMISSION_DENIED,
/// RESOURCE_EXHAUSTED with a retry delay (`ToGrpcStatus` turns it into a
/// `google.rpc.RetryInfo` detail). Each is counted in
///
///   flywheel_<service>_auth_refusals_total{method,code}
///   flywheel_<service>_rate_limited_total{method,scope}     scope: tenant|caller
///
/// with the table's method names only, never ids. `flywheel_<service>_auth_
/// dev_mode` is 1 while dev mode is on. Thread-safe; the authenticator and
/// metrics must outlive it.
class Guard {
 public:
  /// Fails with FAILED_PRECONDITION when `table` does not name exactly the
  /// methods of its service (looked up in the linked protobuf descriptors),
  /// so no method is left without a decision. `service_name` is the
  /// `<service>` of the metric names.
  static absl::StatusOr<std::unique_ptr<Guard>> Create(auth::Authenticator& authenticator,
                                                       const auth::RoleTable& table,
                                                       metrics::Metrics& metrics,
                                                       const std::string& service_name);

  absl::StatusOr<auth::Principal> Admit(const ::grpc::ServerContextBase& context,
                                        std::string_view method);

  /// `Admit`, then `auth::CheckTenant` against the tenant the request names:
  /// a principal of tenant A naming tenant B is PERMISSION_DENIED before
  /// anything is looked up, so the answer is the same whether B, or what
  /// the call names in B, exists or not. An empty `tenant` passes: it names
  /// no one's data, and the service refuses it as a missing field.
  absl::StatusOr<auth::Principal> AdmitFor(const ::grpc::ServerContextBase& context,
                                           std::string_view method, std::string_view tenant);

 private:
  Guard(auth::Authenticator& authenticator, const auth::RoleTable& table,
        prometheus::Family<prometheus::Counter>& refusals,
        prometheus::Family<prometheus::Counter>& limited);
  absl::Status Refuse(std::string_view method, absl::Status status);

  auth::Authenticator& authenticator_;
  const auth::RoleTable& table_;
  prometheus::Family<prometheus::Counter>& refusals_;
  prometheus::Family<prometheus::Counter>& limited_;
};

}  // namespace flywheel::rpc
