#include "flywheel/auth/testing/test_issuer.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "flywheel/core/id.h"

namespace flywheel::auth::testing {
namespace {

std::string Pem(EVP_PKEY* key, bool private_key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (private_key) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string B64(std::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()), &out);
  return out;
}

// A big-number parameter of `key`, big-endian, left-padded to `size` bytes
// when given (JWK coordinates have their curve's full length).
std::string BnParam(EVP_PKEY* key, const char* name, int size = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  const int length = size > 0 ? size : BN_num_bytes(bn);
  std::string bytes(static_cast<size_t>(length), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), length);
  BN_free(bn);
  return bytes;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string ClaimsJson(const Claims& c) {
  nlohmann::json j;
  j["iss"] = c.issuer;
  j["aud"] = c.audience;
  j["sub"] = c.subject;
  j["tenant"] = c.tenant;
  j["roles"] = c.roles;
  if (!c.groups.empty()) j["groups"] = c.groups;
  j["iat"] = absl::ToUnixSeconds(absl::Now());
  if (c.expires) j["exp"] = absl::ToUnixSeconds(*c.expires);
  if (c.not_before) j["nbf"] = absl::ToUnixSeconds(*c.not_before);
  return j.dump();
}

std::string Encode(const Claims& claims, jwt_alg_t alg, const std::string& key,
                   const std::string& kid) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  if (!kid.empty()) jwt_add_header(jwt, "kid", kid.c_str());
  jwt_add_grants_json(jwt, ClaimsJson(claims).c_str());
  if (alg != JWT_ALG_NONE) {
    jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                static_cast<int>(key.size()));
  }
  char* token = jwt_encode_str(jwt);
  std::string out = token == nullptr ? "" : token;
  free(token);  // NOLINT(cppcoreguidelines-no-malloc): libjwt allocates with malloc
  jwt_free(jwt);
  if (out.empty()) throw std::runtime_error("libjwt could not mint a token");
  return out;
}

}  // namespace

struct TestIssuer::Key {
  EVP_PKEY* pkey = nullptr;
  std::string private_pem;
  std::string public_pem;
  std::string jwk;
  ~Key() { EVP_PKEY_free(pkey); }
};

TestIssuer::TestIssuer(KeyType type) : key_(std::make_unique<Key>()), kid_(NewRandomId()) {
  key_->pkey = type == KeyType::kRsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                     : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key_->pkey == nullptr) throw std::runtime_error("cannot generate a test key");
  key_->private_pem = Pem(key_->pkey, true);
  key_->public_pem = Pem(key_->pkey, false);
  nlohmann::json jwk;
  jwk["kid"] = kid_;
  jwk["use"] = "sig";
  if (type == KeyType::kRsa) {
    alg_ = "RS256";
    jwk["kty"] = "RSA";
    jwk["n"] = B64(BnParam(key_->pkey, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = B64(BnParam(key_->pkey, OSSL_PKEY_PARAM_RSA_E));
  } else {
    alg_ = "ES256";
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = B64(BnParam(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32));
    jwk["y"] = B64(BnParam(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  jwk["alg"] = alg_;
  key_->jwk = jwk.dump();
}

TestIssuer::~TestIssuer() = default;

std::string TestIssuer::Jwks() const { return absl::StrCat(R"({"keys": [)", key_->jwk, "]}"); }
std::string TestIssuer::PublicPem() const { return key_->public_pem; }

std::string TestIssuer::Mint(const Claims& claims) const {
  return Encode(claims, jwt_str_alg(alg_.c_str()), key_->private_pem, kid_);
}

std::string TestIssuer::MintUnsigned(const Claims& claims) const {
  return Encode(claims, JWT_ALG_NONE, "", kid_);
}

std::string TestIssuer::MintHs256WithPublicKey(const Claims& claims) const {
  return Encode(claims, JWT_ALG_HS256, key_->public_pem, kid_);
}

std::string TestIssuer::WriteConfig(const std::string& dir, const std::vector<std::string>& tenants,
                                    const std::string& rate_limits_yaml, bool pem,
                                    const std::string& extra_policy_yaml) const {
  const std::string key_file = pem ? dir + "/key.pem" : dir + "/keys.json";
  WriteFile(key_file, pem ? PublicPem() : Jwks());
  std::string policy = "tenants: [";
  for (size_t i = 0; i < tenants.size(); ++i) absl::StrAppend(&policy, i ? ", " : "", tenants[i]);
  policy += "]\n";
  if (!rate_limits_yaml.empty()) absl::StrAppend(&policy, "rate_limits:\n", rate_limits_yaml);
  absl::StrAppend(&policy, extra_policy_yaml);
  WriteFile(dir + "/auth-policy.yaml", policy);
  const Claims defaults;
  return absl::StrCat("auth:\n  key_file: ", key_file, "\n  issuer: ", defaults.issuer,
                      "\n  audience: ", defaults.audience, "\n  policy_file: ", dir,
                      "/auth-policy.yaml\n");
}

std::vector<std::string> TestIssuer::Env(const std::string& dir, bool pem) const {
  const Claims defaults;
  return {absl::StrCat("FLYWHEEL_AUTH_KEY_FILE=", dir, pem ? "/key.pem" : "/keys.json"),
          "FLYWHEEL_AUTH_ISSUER=" + defaults.issuer, "FLYWHEEL_AUTH_AUDIENCE=" + defaults.audience,
          absl::StrCat("FLYWHEEL_AUTH_POLICY_FILE=", dir, "/auth-policy.yaml")};
}

}  // namespace flywheel::auth::testing
