#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace flywheel::auth::testing {

/// What a test token says. Defaults make a valid token for `TestIssuer`'s
/// issuer and audience, valid for an hour from now.
struct Claims {
  std::string issuer = "https://issuer.flywheel.test";
  std::string audience = "flywheel";
  std::string subject = "maria";
  std::string tenant = "acme";
  std::vector<std::string> roles = {"requester"};
  std::vector<std::string> groups;
  /// Seconds since the epoch; nullopt leaves the claim out.
  std::optional<absl::Time> expires = absl::Now() + absl::Hours(1);
  std::optional<absl::Time> not_before;
};

/// An identity provider for tests: a key pair made fresh for each test run
/// (nothing private is ever committed), its public half as a JWKS document
/// or PEM, and tokens minted with libjwt. Also writes the files a service's
/// `auth.*` config names. Not thread-safe.
class TestIssuer {
 public:
  enum class KeyType { kRsa, kEc };
  explicit TestIssuer(KeyType type = KeyType::kRsa);
  ~TestIssuer();
  TestIssuer(const TestIssuer&) = delete;
  TestIssuer& operator=(const TestIssuer&) = delete;

  /// `{"keys": [<the public JWK, with kid and alg>]}`.
  std::string Jwks() const;
  /// The public key as PEM.
  std::string PublicPem() const;
  const std::string& kid() const { return kid_; }

  /// A token signed with the issuer's key (RS256 or ES256).
  std::string Mint(const Claims& claims = {}) const;
  /// `alg: none`, no signature.
  std::string MintUnsigned(const Claims& claims = {}) const;
  /// HS256 with the public key's PEM as the HMAC secret: the algorithm
  /// confusion attack.
  std::string MintHs256WithPublicKey(const Claims& claims = {}) const;

  /// Writes the JWKS (or the PEM) to `dir/keys.json` (`dir/key.pem`) and an
  /// auth policy serving `tenants` with `rate_limits_yaml` (the text under
  /// `rate_limits:`, may be empty) and `extra_policy_yaml` (more top-level
  /// keys: `event_producers`) to `dir/auth-policy.yaml`; returns the
  /// `auth:` section of a config file naming them.
  std::string WriteConfig(const std::string& dir,
                          const std::vector<std::string>& tenants = {"acme", "demo"},
                          const std::string& rate_limits_yaml = "", bool pem = false,
                          const std::string& extra_policy_yaml = "") const;
  /// The same settings as `FLYWHEEL_AUTH_*=` environment entries, after
  /// `WriteConfig(dir, ...)`.
  std::vector<std::string> Env(const std::string& dir, bool pem = false) const;

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  std::string kid_;
  std::string alg_;
};

/// `authorization` metadata value for `token`.
inline std::string Bearer(const std::string& token) { return "Bearer " + token; }

}  // namespace flywheel::auth::testing
