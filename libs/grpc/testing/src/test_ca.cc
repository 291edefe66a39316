#include "flywheel/grpc/testing/test_ca.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_join.h"
#include "flywheel/core/deleter.h"
#include "flywheel/core/id.h"

namespace flywheel::rpc::testing {
namespace {

using BioHandle = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Handle = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyHandle = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using ExtensionHandle = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

void Require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test CA: ") + what);
}

PkeyHandle NewKey() {
  PkeyHandle key(EVP_EC_gen("P-256"));
  Require(key != nullptr, "cannot make a P-256 key");
  return key;
}

template <typename Write>
std::string Pem(Write write) {
  BioHandle bio(BIO_new(BIO_s_mem()));
  Require(write(bio.get()) == 1, "cannot write PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeyPem(EVP_PKEY* key) {
  return Pem([key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string CertPem(X509* cert) {
  return Pem([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

// Adds the extension `nid` written as in openssl.cnf (`critical,CA:TRUE`).
void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionHandle ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  Require(ext != nullptr, "cannot make an extension");
  Require(X509_add_ext(cert, ext.get(), -1) == 1, "cannot add an extension");
}

// A certificate for `key` named `common_name`, not yet signed; its issuer
// is `issuer`, or itself when that is null.
X509Handle NewCertificate(const std::string& common_name, EVP_PKEY* key, X509* issuer,
                          uint64_t serial, absl::Duration valid_for) {
  X509Handle cert(X509_new());
  Require(cert != nullptr, "cannot make a certificate");
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), absl::ToInt64Seconds(valid_for));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  return cert;
}

}  // namespace

struct TestCa::Key {
  PkeyHandle key;
  X509Handle cert;
  mutable uint64_t next_serial = 2;
};

TestCa::TestCa(const std::string& name) : key_(std::make_unique<Key>()) {
  key_->key = NewKey();
  key_->cert = NewCertificate(name, key_->key.get(), nullptr, 1, absl::Hours(24 * 30));
  X509* cert = key_->cert.get();
  AddExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert, cert, NID_subject_key_identifier, "hash");
  Require(X509_sign(cert, key_->key.get(), EVP_sha256()) > 0, "cannot sign the CA certificate");
  cert_pem_ = CertPem(cert);
}

TestCa::~TestCa() = default;

IssuedCertificate TestCa::Issue(const std::string& common_name,
                                const std::vector<std::string>& alt_names,
                                absl::Duration valid_for) const {
  PkeyHandle key = NewKey();
  X509Handle cert =
      NewCertificate(common_name, key.get(), key_->cert.get(), key_->next_serial++, valid_for);
  X509* issuer = key_->cert.get();
  AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
  AddExtension(cert.get(), issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid");
  if (!alt_names.empty()) {
    AddExtension(cert.get(), issuer, NID_subject_alt_name, absl::StrJoin(alt_names, ","));
  }
  Require(X509_sign(cert.get(), key_->key.get(), EVP_sha256()) > 0, "cannot sign a certificate");
  return {.cert_pem = CertPem(cert.get()), .key_pem = KeyPem(key.get())};
}

IssuedCertificate TestCa::IssueServer(const std::string& name) const {
  return Issue(name, {"DNS:localhost", "IP:127.0.0.1", "DNS:" + name});
}

void ReplaceFile(const std::string& path, const std::string& text) {
  const std::string next = path + ".next-" + NewRandomId();
  {
    std::ofstream out(next, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + next);
  }
  std::filesystem::rename(next, path);
}

}  // namespace flywheel::rpc::testing
