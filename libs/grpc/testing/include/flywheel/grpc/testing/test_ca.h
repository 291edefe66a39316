#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace flywheel::rpc::testing {

/// A certificate and its private key, both PEM.
struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;
};

/// A certificate authority made fresh for a test (nothing private is ever
/// committed), with OpenSSL: a P-256 key and a self-signed CA certificate,
/// and leaf certificates it signs. Not thread-safe.
class TestCa {
 public:
  explicit TestCa(const std::string& name = "Flywheel Test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  /// The CA's certificate, what a peer trusts.
  const std::string& cert_pem() const { return cert_pem_; }

  /// A leaf certificate for servers and clients alike, with the subject
  /// `common_name` and `alt_names` as its subject alternative names in
  /// OpenSSL's notation: `DNS:localhost`, `IP:127.0.0.1`,
  /// `URI:spiffe://flywheel.test/intake`; none: the name is the CN alone.
  /// Valid from an hour ago until `valid_for` from now (negative: expired).
  IssuedCertificate Issue(const std::string& common_name, const std::vector<std::string>& alt_names,
                          absl::Duration valid_for = absl::Hours(24)) const;

  /// A certificate a server on loopback presents: `DNS:localhost`,
  /// `IP:127.0.0.1`, and `DNS:<name>` so a test can tell two apart.
  IssuedCertificate IssueServer(const std::string& name = "server.flywheel.test") const;

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  std::string cert_pem_;
};

/// Replaces the file at `path` with `text` in one rename, the way a
/// certificate rotation should, so a reader never sees half a file. Throws
/// std::runtime_error when it cannot.
void ReplaceFile(const std::string& path, const std::string& text);

}  // namespace flywheel::rpc::testing
