#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace flywheel::rpc {

/// Where a server's TLS credentials live. All empty: plaintext. A
/// certificate and key: TLS only, no client certificate asked for. With a
/// client CA as well: mutual TLS, every connection must present a client
/// certificate that chains to one of the CA's certificates or the handshake
/// fails.
struct TlsOptions {
  /// PEM certificate chain the server presents, its own certificate first.
  std::string cert_file;
  /// PEM private key of the first certificate of `cert_file`.
  std::string key_file;
  /// PEM certificates of the CAs whose client certificates are accepted.
  std::string client_ca_file;
  /// How often the three files are reread (whole seconds, at least one): a
  /// changed file is served from the next handshake on, without a restart.
  absl::Duration refresh_interval = absl::Minutes(1);

  /// Whether any TLS file is named.
  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
  /// Whether client certificates are required and verified.
  bool mutual() const { return !client_ca_file.empty(); }
};

/// OK when `path` can be read and holds one or more PEM certificates, the
/// first of them valid now; otherwise INVALID_ARGUMENT whose message says
/// why, phrased to follow the setting's name (`cannot be read: No such file
/// or directory`). Any thread.
absl::Status CheckCertificateFile(const std::string& path);

/// OK when `key_path` can be read and holds a PEM private key that belongs
/// to the first certificate in `cert_path` (when that one can be read);
/// otherwise INVALID_ARGUMENT phrased as `CheckCertificateFile`'s. The key
/// itself never appears in the message.
absl::Status CheckPrivateKeyFile(const std::string& key_path, const std::string& cert_path);

/// Every check above for `options`, the first problem as INVALID_ARGUMENT
/// naming the field and the file (`tls.key_file /etc/tls/key.pem: ...`);
/// OK when TLS is off.
absl::Status CheckTlsOptions(const TlsOptions& options);

}  // namespace flywheel::rpc
