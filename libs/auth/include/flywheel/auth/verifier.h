#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "flywheel/auth/key_set.h"
#include "flywheel/auth/principal.h"
#include "flywheel/core/clock.h"

namespace flywheel::auth {

/// What a token must say to be accepted.
struct VerifierOptions {
  /// The `iss` claim, exactly.
  std::string issuer;
  /// Must be the `aud` claim, or one of its entries.
  std::string audience;
  /// How far `exp`, `nbf` and `iat` may be off: clocks of issuer and
  /// service differ.
  absl::Duration clock_skew = absl::Seconds(30);
  /// Longer tokens are refused before anything parses them.
  size_t max_token_bytes = 8 * 1024;
};

/// Verifies bearer JWTs (RFC 7519) with libjwt, and turns a valid one into a
/// `Principal`:
///
///   {"iss": ..., "aud": ..., "exp": ..., "sub": "maria", "tenant": "acme",
///    "roles": ["requester"], "groups": ["product-marketing"]}
///
/// `exp`, `sub` and `tenant` are required; `nbf` and `iat`, when present,
/// must not lie in the future. Only asymmetric signatures verify (RS256/384/
/// 512, ES256/384/512): the header's `alg` must be one the key was published
/// for, so `none` and an HS256 token "signed" with the public key are
/// refused before libjwt is asked (libjwt 1.10 would accept the latter).
/// Every refusal is UNAUTHENTICATED with a fixed sentence that quotes
/// nothing of the token.
///
/// Keys are swapped whole by `SetKeys` (a reload) while calls verify.
/// Thread-safe.
class Verifier {
 public:
  Verifier(VerifierOptions options, KeySet keys, const Clock& clock);

  absl::StatusOr<Principal> Verify(std::string_view token) const;

  /// Replaces the keys; calls in progress finish with the old ones.
  void SetKeys(KeySet keys);
  size_t key_count() const;

 private:
  std::shared_ptr<const KeySet> keys() const;

  const VerifierOptions options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flywheel::auth
