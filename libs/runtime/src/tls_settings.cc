#include "tls_settings.h"

#include <string>

namespace flywheel::runtime {
namespace {

std::string Problem(const absl::Status& status) {
  return status.ok() ? "" : std::string(status.message());
}

}  // namespace

rpc::TlsOptions ReadTlsSettings(config::Config& config) {
  rpc::TlsOptions tls;
  // What cert_file says even when its file is bad (Get then returns the
  // default), so the other keys are judged by what the operator wrote.
  std::string cert;
  tls.cert_file =
      config.Get<std::string>("grpc.tls.cert_file", "", [&cert](const std::string& path) {
        cert = path;
        return path.empty() ? "" : Problem(rpc::CheckCertificateFile(path));
      });
  auto key_rule = [&cert](const std::string& path) -> std::string {
    if (path.empty()) return "";
    if (cert.empty()) return "is set but grpc.tls.cert_file is not; TLS needs both";
    return Problem(rpc::CheckPrivateKeyFile(path, cert));
  };
  tls.key_file = cert.empty() ? config.Get<std::string>("grpc.tls.key_file", "", key_rule)
                              : config.Required<std::string>("grpc.tls.key_file",
                                                             config::NonEmpty(), key_rule);
  tls.client_ca_file =
      config.Get<std::string>("grpc.tls.client_ca_file", "", [&cert](const std::string& path) {
        if (path.empty()) return std::string();
        if (cert.empty()) {
          return std::string(
              "is set but grpc.tls.cert_file is not; mutual TLS needs grpc.tls.cert_file and "
              "grpc.tls.key_file too");
        }
        return Problem(rpc::CheckCertificateFile(path));
      });
  tls.refresh_interval = config.Get<absl::Duration>(
      "grpc.tls.refresh_interval", absl::Minutes(1),
      config::InRange(absl::Seconds(1), absl::Hours(24)), [](const absl::Duration& d) {
        return d % absl::Seconds(1) == absl::ZeroDuration() ? "" : "must be whole seconds";
      });
  return tls;
}

}  // namespace flywheel::runtime
