#include "flywheel/auth/key_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/auth/testing/test_issuer.h"

namespace flywheel::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ExpectInvalid(const std::string& text, const std::string& why) {
  absl::StatusOr<KeySet> keys = ParseKeys(text, "keys.json");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(keys.status().message(), HasSubstr("keys.json"));
  EXPECT_THAT(keys.status().message(), HasSubstr(why));
}

TEST(KeySetTest, JwksKeysKeepTheirKidAndAlgorithm) {
  testing::TestIssuer rsa;
  testing::TestIssuer ec(testing::TestIssuer::KeyType::kEc);
  const std::string jwks = rsa.Jwks().substr(0, rsa.Jwks().size() - 2) + "," +
                           ec.Jwks().substr(std::string(R"({"keys": [)").size());
  absl::StatusOr<KeySet> keys = ParseKeys(jwks, "keys.json");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->keys.size(), 2u);
  EXPECT_EQ(keys->keys[0].kid, rsa.kid());
  EXPECT_THAT(keys->keys[0].algorithms, ElementsAre("RS256"));
  EXPECT_THAT(keys->keys[1].algorithms, ElementsAre("ES256"));
  EXPECT_THAT(keys->keys[0].pem, HasSubstr("BEGIN PUBLIC KEY"));
}

TEST(KeySetTest, APemKeyTakesTheAlgorithmsOfItsType) {
  testing::TestIssuer rsa;
  absl::StatusOr<KeySet> keys = ParseKeys(rsa.PublicPem(), "key.pem");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(keys->keys[0].algorithms, ElementsAre("RS256", "RS384", "RS512"));
}

TEST(KeySetTest, EncryptionAndUnknownKeyTypesAreSkipped) {
  testing::TestIssuer rsa;
  const std::string jwks = R"({"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
                                        {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},)" +
                           rsa.Jwks().substr(std::string(R"({"keys": [)").size());
  absl::StatusOr<KeySet> keys = ParseKeys(jwks, "keys.json");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->keys.size(), 1u);
}

TEST(KeySetTest, WhatMustNeverVerifyIsRefused) {
  ExpectInvalid(R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})", "symmetric");
  ExpectInvalid(R"({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQAB"}]})",
                "private key");
  ExpectInvalid(R"({"keys": []})", "no RSA or EC signing key");
  ExpectInvalid(R"({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]})", "fewer than 2048");
  ExpectInvalid("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "private key");
  ExpectInvalid("not a key", "not a PEM public key");
  ExpectInvalid("{\"keys\": 3}", "not a JWKS document");
  testing::TestIssuer rsa;
  std::string wrong_alg = rsa.Jwks();
  wrong_alg.replace(wrong_alg.find("RS256"), 5, "ES256");
  ExpectInvalid(wrong_alg, "does not fit its key");
}

TEST(KeySetTest, AnUnreadableFileIsFailedPrecondition) {
  EXPECT_EQ(LoadKeyFile("/nonexistent/keys.json").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace flywheel::auth
