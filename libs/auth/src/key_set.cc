#include "flywheel/auth/key_set.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/deleter.h"

namespace flywheel::auth {
namespace {

using PkeyHandle = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxHandle = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using BioHandle = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnHandle = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ParamBldHandle = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamHandle = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

constexpr int kMinRsaBits = 2048;

absl::Status Invalid(std::string_view source, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("keys from ", std::string(source), ": ", std::string(what)));
}

absl::StatusOr<std::string> ToPem(EVP_PKEY* key) {
  BioHandle bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return absl::InternalError("cannot write a public key as PEM");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// The algorithms a key of this type verifies, or empty when it is not one
// we take (why in `why`).
std::vector<std::string> AlgorithmsFor(EVP_PKEY* key, std::string* why) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
        *why = absl::StrCat("an RSA key has fewer than ", kMinRsaBits, " bits");
        return {};
      }
      return {"RS256", "RS384", "RS512"};
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &len) != 1) {
        *why = "an EC key has no curve";
        return {};
      }
      const std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return {"ES256"};
      if (g == "secp384r1" || g == "P-384") return {"ES384"};
      if (g == "secp521r1" || g == "P-521") return {"ES512"};
      *why = absl::StrCat("an EC key is on curve ", std::string(g),
                          "; P-256, P-384 or P-521 expected");
      return {};
    }
    default:
      *why = "a key is neither RSA nor EC";
      return {};
  }
}

absl::StatusOr<std::string> Base64UrlField(const nlohmann::json& jwk, const char* name,
                                           std::string_view source) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return Invalid(source, absl::StrCat("a JWK has no '", name, "'"));
  }
  std::string out;
  if (!absl::WebSafeBase64Unescape(it->get<std::string>(), &out) || out.empty()) {
    return Invalid(source, absl::StrCat("a JWK's '", name, "' is not base64url"));
  }
  return out;
}

absl::StatusOr<PkeyHandle> FromParams(const char* type, OSSL_PARAM_BLD* bld,
                                      std::string_view source) {
  ParamHandle params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxHandle ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Invalid(source, absl::StrCat("a ", type, " JWK does not make a valid key"));
  }
  return PkeyHandle(key);
}

absl::StatusOr<PkeyHandle> RsaFromJwk(const nlohmann::json& jwk, std::string_view source) {
  auto n = Base64UrlField(jwk, "n", source);
  if (!n.ok()) return n.status();
  auto e = Base64UrlField(jwk, "e", source);
  if (!e.ok()) return e.status();
  BnHandle bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                          static_cast<int>(n->size()), nullptr));
  BnHandle bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                          static_cast<int>(e->size()), nullptr));
  ParamBldHandle bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return absl::InternalError("cannot build an RSA key");
  }
  return FromParams("RSA", bld.get(), source);
}

absl::StatusOr<PkeyHandle> EcFromJwk(const nlohmann::json& jwk, std::string_view source) {
  const std::string crv = jwk.value("crv", "");
  const char* group = crv == "P-256"   ? "prime256v1"
                      : crv == "P-384" ? "secp384r1"
                      : crv == "P-521" ? "secp521r1"
                                       : nullptr;
  if (group == nullptr) return Invalid(source, "an EC JWK's 'crv' is not P-256, P-384 or P-521");
  auto x = Base64UrlField(jwk, "x", source);
  if (!x.ok()) return x.status();
  auto y = Base64UrlField(jwk, "y", source);
  if (!y.ok()) return y.status();
  std::string point = "\x04" + *x + *y;  // uncompressed
  ParamBldHandle bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return absl::InternalError("cannot build an EC key");
  }
  return FromParams("EC", bld.get(), source);
}

absl::StatusOr<KeySet> ParseJwks(std::string_view text, std::string_view source) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Invalid(source, "not a JWKS document (an object with a 'keys' list)");
  }
  KeySet set;
  for (const nlohmann::json& jwk : doc["keys"]) {
    if (!jwk.is_object()) return Invalid(source, "a JWKS entry is not an object");
    if (jwk.value("use", "sig") != "sig") continue;
    const std::string kty = jwk.value("kty", "");
    if (kty == "oct") return Invalid(source, "a symmetric ('oct') key is not accepted");
    if (jwk.contains("d"))
      return Invalid(source, "a JWK holds a private key; publish public keys only");
    absl::StatusOr<PkeyHandle> key = kty == "RSA"  ? RsaFromJwk(jwk, source)
                                     : kty == "EC" ? EcFromJwk(jwk, source)
                                                   : absl::StatusOr<PkeyHandle>(nullptr);
    if (!key.ok()) return key.status();
    if (*key == nullptr) continue;  // a key type we do not use
    std::string why;
    VerificationKey out;
    out.kid = jwk.value("kid", "");
    out.algorithms = AlgorithmsFor(key->get(), &why);
    if (out.algorithms.empty()) return Invalid(source, why);
    if (jwk.contains("alg")) {
      const std::string alg = jwk.value("alg", "");
      if (std::find(out.algorithms.begin(), out.algorithms.end(), alg) == out.algorithms.end()) {
        return Invalid(source, absl::StrCat("a JWK's 'alg' ", alg, " does not fit its key"));
      }
      out.algorithms = {alg};
    }
    auto pem = ToPem(key->get());
    if (!pem.ok()) return pem.status();
    out.pem = *std::move(pem);
    set.keys.push_back(std::move(out));
  }
  if (set.keys.empty()) return Invalid(source, "no RSA or EC signing key");
  return set;
}

absl::StatusOr<KeySet> ParsePem(std::string_view text, std::string_view source) {
  if (text.find("PRIVATE KEY") != std::string_view::npos) {
    return Invalid(source, "holds a private key; give services the public key only");
  }
  BioHandle bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  PkeyHandle key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Invalid(source, "not a PEM public key");
  std::string why;
  VerificationKey out;
  out.algorithms = AlgorithmsFor(key.get(), &why);
  if (out.algorithms.empty()) return Invalid(source, why);
  auto pem = ToPem(key.get());
  if (!pem.ok()) return pem.status();
  out.pem = *std::move(pem);
  KeySet set;
  set.keys.push_back(std::move(out));
  return set;
}

}  // namespace

absl::StatusOr<KeySet> ParseKeys(std::string_view text, std::string_view source) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Invalid(source, "empty");
  if (text[first] == '{') return ParseJwks(text, source);
  return ParsePem(text, source);
}

absl::StatusOr<KeySet> LoadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("key file ", path, ": cannot open"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseKeys(text.str(), path);
}

}  // namespace flywheel::auth
