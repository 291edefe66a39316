#include "flywheel/auth/verifier.h"

#include <jwt.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flywheel::auth {
namespace {

using JwtHandle = std::unique_ptr<jwt_t, decltype([](jwt_t* j) { jwt_free(j); })>;

absl::Status Refused(std::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", std::string(why)));
}

bool Base64UrlChars(absl::string_view part) {
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// The JSON object a token part encodes, or a discarded value.
nlohmann::json DecodePart(absl::string_view part) {
  std::string json;
  if (!absl::WebSafeBase64Unescape(part, &json)) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  nlohmann::json out = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!out.is_object()) return nlohmann::json(nlohmann::json::value_t::discarded);
  return out;
}

// The strings of a claim that is a list of strings; false when it is
// something else.
bool Strings(const nlohmann::json& claims, const char* name, std::vector<std::string>* out) {
  auto it = claims.find(name);
  if (it == claims.end()) return true;
  if (!it->is_array()) return false;
  for (const auto& v : *it) {
    if (!v.is_string()) return false;
    out->push_back(v.get<std::string>());
  }
  return true;
}

std::optional<absl::Time> NumericDate(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return absl::FromUnixSeconds(static_cast<int64_t>(it->get<double>()));
}

}  // namespace

Verifier::Verifier(VerifierOptions options, KeySet keys, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      keys_(std::make_shared<const KeySet>(std::move(keys))) {}

void Verifier::SetKeys(KeySet keys) {
  auto next = std::make_shared<const KeySet>(std::move(keys));
  absl::MutexLock lock(&mu_);
  keys_ = std::move(next);
}

std::shared_ptr<const KeySet> Verifier::keys() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

size_t Verifier::key_count() const { return keys()->keys.size(); }

absl::StatusOr<Principal> Verifier::Verify(std::string_view token) const {
  if (token.empty()) return Refused("empty");
  if (token.size() > options_.max_token_bytes) return Refused("too long");
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(token.data(), token.size()), '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      !std::all_of(parts.begin(), parts.end(), Base64UrlChars)) {
    return Refused("not a signed JWT");
  }
  const nlohmann::json header = DecodePart(parts[0]);
  if (header.is_discarded()) return Refused("malformed header");
  const std::string alg = header.value("alg", "");
  const std::string kid = header.value("kid", "");
  if (parts[2].empty() || alg.empty() || alg == "none") return Refused("unsigned");

  // The key: the one named by `kid`, else every key published for `alg`. A
  // key without a kid (from a PEM file) is tried whatever the token names.
  std::shared_ptr<const KeySet> keys = this->keys();
  const jwt_alg_t expected = jwt_str_alg(alg.c_str());
  JwtHandle jwt;
  bool algorithm_known = false;
  for (const VerificationKey& key : keys->keys) {
    if (!kid.empty() && !key.kid.empty() && key.kid != kid) continue;
    if (std::find(key.algorithms.begin(), key.algorithms.end(), alg) == key.algorithms.end()) {
      continue;
    }
    algorithm_known = true;
    const std::string copy(token);  // libjwt wants a NUL-terminated string
    jwt_t* decoded = nullptr;
    if (jwt_decode(&decoded, copy.c_str(), reinterpret_cast<const unsigned char*>(key.pem.data()),
                   static_cast<int>(key.pem.size())) == 0) {
      jwt.reset(decoded);
      break;
    }
  }
  if (!algorithm_known) return Refused("no key for its algorithm or key id");
  if (!jwt) return Refused("signature does not verify");
  // libjwt decided with the algorithm the token names; make sure it is the
  // one we chose the key for.
  if (jwt_get_alg(jwt.get()) != expected) return Refused("signature does not verify");

  const nlohmann::json claims = DecodePart(parts[1]);
  if (claims.is_discarded()) return Refused("malformed claims");
  const absl::Time now = clock_.Now();
  const absl::Duration skew = options_.clock_skew;
  if (claims.value("iss", "") != options_.issuer) return Refused("wrong issuer");
  bool audience = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) audience = aud->get<std::string>() == options_.audience;
    if (aud->is_array()) {
      for (const auto& a : *aud)
        audience |= a.is_string() && a.get<std::string>() == options_.audience;
    }
  }
  if (!audience) return Refused("wrong audience");
  std::optional<absl::Time> exp = NumericDate(claims, "exp");
  if (!exp) return Refused("no expiry");
  if (now > *exp + skew) return Refused("expired");
  if (claims.contains("nbf")) {
    std::optional<absl::Time> nbf = NumericDate(claims, "nbf");
    if (!nbf || *nbf > now + skew) return Refused("not valid yet");
  }
  if (claims.contains("iat")) {
    std::optional<absl::Time> iat = NumericDate(claims, "iat");
    if (!iat || *iat > now + skew) return Refused("issued in the future");
  }

  Principal p;
  auto sub = claims.find("sub");
  auto tenant = claims.find("tenant");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return Refused("no subject");
  }
  if (tenant == claims.end() || !tenant->is_string() || tenant->get<std::string>().empty()) {
    return Refused("no tenant");
  }
  p.user_id = sub->get<std::string>();
  p.tenant = tenant->get<std::string>();
  std::vector<std::string> roles;
  if (!Strings(claims, "roles", &roles)) return Refused("roles is not a list of strings");
  if (!Strings(claims, "groups", &p.groups)) return Refused("groups is not a list of strings");
  for (const std::string& name : roles) {
    if (std::optional<Role> role = ParseRole(name)) p.roles.push_back(*role);
  }
  return p;
}

}  // namespace flywheel::auth
