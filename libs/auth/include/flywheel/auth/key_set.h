#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace flywheel::auth {

/// One public key that may sign tokens.
struct VerificationKey {
  /// The JWK's `kid`; empty for a key from a PEM file.
  std::string kid;
  /// The JWS algorithms this key verifies (`RS256`, `ES256` ...). Only
  /// asymmetric ones: RS256/384/512 for RSA, ES256/384/512 for the P-256,
  /// P-384 and P-521 curves. Never `none`, never HS*.
  std::vector<std::string> algorithms;
  /// The key as a PEM `PUBLIC KEY`, as libjwt takes it.
  std::string pem;
};

/// The keys tokens are verified with.
struct KeySet {
  std::vector<VerificationKey> keys;
};

/// Parses a JWKS document (`{"keys": [...]}`) or one PEM public key, told
/// apart by their first character. JWKs with `use` other than `sig` and key
/// types other than RSA and EC are skipped; a JWK whose `alg` does not fit
/// its key is an error, as is an RSA key under 2048 bits, a private key,
/// a symmetric (`oct`) key, or a document with no usable key. Errors are
/// INVALID_ARGUMENT and name `source`, never key material. Pure; any thread.
absl::StatusOr<KeySet> ParseKeys(std::string_view text, std::string_view source);

/// Reads `path` and parses it with `ParseKeys`; an unreadable file is
/// FAILED_PRECONDITION, as for policy files.
absl::StatusOr<KeySet> LoadKeyFile(const std::string& path);

}  // namespace flywheel::auth
