#include "flywheel/grpc/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/deleter.h"

namespace flywheel::rpc {
namespace {

using BioHandle = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Handle = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyHandle = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;

absl::StatusOr<BioHandle> OpenFile(const std::string& path) {
  BioHandle bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) {
    const int error = errno;
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("cannot be read: ", std::strerror(error)));
  }
  return bio;
}

// Every PEM certificate in `path`, in order.
absl::StatusOr<std::vector<X509Handle>> ReadCertificates(const std::string& path) {
  absl::StatusOr<BioHandle> bio = OpenFile(path);
  if (!bio.ok()) return bio.status();
  std::vector<X509Handle> certificates;
  while (X509* cert = PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(cert);
  }
  // The loop ends on the end of the file (an error OpenSSL queues every
  // time) or on a block that does not parse; only the latter is a problem.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (ERR_GET_REASON(error) != PEM_R_NO_START_LINE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "holds a PEM block that is not a certificate (after ", certificates.size(), " good ones)"));
  }
  if (certificates.empty()) return absl::InvalidArgumentError("holds no PEM certificate");
  return certificates;
}

}  // namespace

absl::Status CheckCertificateFile(const std::string& path) {
  absl::StatusOr<std::vector<X509Handle>> certificates = ReadCertificates(path);
  if (!certificates.ok()) return certificates.status();
  const X509* first = certificates->front().get();
  if (X509_cmp_current_time(X509_get0_notAfter(first)) < 0) {
    return absl::InvalidArgumentError("holds a certificate that has expired");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(first)) > 0) {
    return absl::InvalidArgumentError("holds a certificate that is not valid yet");
  }
  return absl::OkStatus();
}

absl::Status CheckPrivateKeyFile(const std::string& key_path, const std::string& cert_path) {
  absl::StatusOr<BioHandle> bio = OpenFile(key_path);
  if (!bio.ok()) return bio.status();
  PkeyHandle key(PEM_read_bio_PrivateKey(bio->get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError("holds no unencrypted PEM private key");
  }
  absl::StatusOr<std::vector<X509Handle>> certificates = ReadCertificates(cert_path);
  // A certificate file that cannot be read is its own setting's problem.
  if (!certificates.ok()) return absl::OkStatus();
  if (X509_check_private_key(certificates->front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("is not the key of the certificate in ", cert_path));
  }
  return absl::OkStatus();
}

absl::Status CheckTlsOptions(const TlsOptions& options) {
  if (!options.enabled()) return absl::OkStatus();
  auto problem = [](const char* field, const std::string& path, const absl::Status& st) {
    return absl::InvalidArgumentError(absl::StrCat(field, " ", path, ": ", st.message()));
  };
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls needs both cert_file and key_file (client_ca_file on top for mutual TLS)");
  }
  if (absl::Status st = CheckCertificateFile(options.cert_file); !st.ok()) {
    return problem("tls.cert_file", options.cert_file, st);
  }
  if (absl::Status st = CheckPrivateKeyFile(options.key_file, options.cert_file); !st.ok()) {
    return problem("tls.key_file", options.key_file, st);
  }
  if (options.mutual()) {
    if (absl::Status st = CheckCertificateFile(options.client_ca_file); !st.ok()) {
      return problem("tls.client_ca_file", options.client_ca_file, st);
    }
  }
  if (options.refresh_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("tls.refresh_interval must be at least 1s");
  }
  return absl::OkStatus();
}

}  // namespace flywheel::rpc
