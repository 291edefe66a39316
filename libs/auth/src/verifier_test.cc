#include "flywheel/auth/verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "flywheel/auth/testing/test_issuer.h"

namespace flywheel::auth {
namespace {

using testing::Claims;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestIssuer;

VerifierOptions Options() { return {.issuer = Claims().issuer, .audience = Claims().audience}; }

KeySet KeysOf(const TestIssuer& issuer) {
  auto keys = ParseKeys(issuer.Jwks(), "test");
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *keys : KeySet{};
}

class VerifierTest : public ::testing::Test {
 protected:
  absl::StatusOr<Principal> Verify(const std::string& token) { return verifier_.Verify(token); }
  void ExpectRefused(const std::string& token, const std::string& why) {
    absl::StatusOr<Principal> p = Verify(token);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << p.status();
    EXPECT_THAT(p.status().message(), HasSubstr(why));
    // Nothing of the token in the answer.
    const std::string signature =
        token.rfind('.') == std::string::npos ? "" : token.substr(token.rfind('.') + 1);
    if (signature.size() >= 12) {
      EXPECT_THAT(p.status().message(), Not(HasSubstr(signature.substr(0, 12))));
    }
  }

  TestIssuer issuer_;
  SystemClock& clock_ = SystemClock::Instance();
  Verifier verifier_{Options(), KeysOf(issuer_), clock_};
};

TEST_F(VerifierTest, AValidTokenBecomesItsPrincipal) {
  Claims c;
  c.roles = {"requester", "approver", "not-a-role"};
  c.groups = {"product-marketing"};
  absl::StatusOr<Principal> p = Verify(issuer_.Mint(c));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->tenant, "acme");
  EXPECT_EQ(p->user_id, "maria");
  EXPECT_THAT(p->roles, ElementsAre(Role::kRequester, Role::kApprover));
  EXPECT_THAT(p->groups, ElementsAre("product-marketing"));
  EXPECT_FALSE(p->dev);
}

TEST_F(VerifierTest, EcKeysVerifyToo) {
  TestIssuer ec(TestIssuer::KeyType::kEc);
  Verifier v(Options(), KeysOf(ec), clock_);
  EXPECT_TRUE(v.Verify(ec.Mint()).ok());
  EXPECT_FALSE(v.Verify(issuer_.Mint()).ok());
}

TEST_F(VerifierTest, APemKeyVerifies) {
  auto keys = ParseKeys(issuer_.PublicPem(), "pem");
  ASSERT_TRUE(keys.ok()) << keys.status();
  Verifier v(Options(), *keys, clock_);
  EXPECT_TRUE(v.Verify(issuer_.Mint()).ok());
}

TEST_F(VerifierTest, ExpiredAndNotYetValidTokensAreRefused) {
  Claims expired;
  expired.expires = absl::Now() - absl::Minutes(5);
  ExpectRefused(issuer_.Mint(expired), "expired");
  Claims early;
  early.not_before = absl::Now() + absl::Minutes(5);
  ExpectRefused(issuer_.Mint(early), "not valid yet");
  Claims no_expiry;
  no_expiry.expires.reset();
  ExpectRefused(issuer_.Mint(no_expiry), "no expiry");
}

TEST_F(VerifierTest, ClockSkewIsAllowedAndNoMore) {
  Claims just_expired;
  just_expired.expires = absl::Now() - absl::Seconds(10);
  EXPECT_TRUE(Verify(issuer_.Mint(just_expired)).ok());  // 30 s skew
  Claims soon;
  soon.not_before = absl::Now() + absl::Seconds(10);
  EXPECT_TRUE(Verify(issuer_.Mint(soon)).ok());
}

TEST_F(VerifierTest, WrongIssuerAudienceOrMissingClaimsAreRefused) {
  Claims iss;
  iss.issuer = "https://evil.example";
  ExpectRefused(issuer_.Mint(iss), "wrong issuer");
  Claims aud;
  aud.audience = "someone-else";
  ExpectRefused(issuer_.Mint(aud), "wrong audience");
  Claims tenant;
  tenant.tenant = "";
  ExpectRefused(issuer_.Mint(tenant), "no tenant");
  Claims sub;
  sub.subject = "";
  ExpectRefused(issuer_.Mint(sub), "no subject");
}

TEST_F(VerifierTest, ASignatureByAnotherKeyIsRefused) {
  TestIssuer other;
  // Same kid-less shape: strip nothing, the other key's kid is unknown here.
  ExpectRefused(other.Mint(), "no key");
  // A token whose payload was changed after signing.
  std::string token = issuer_.Mint();
  const size_t dot = token.find('.');
  Claims admin;
  admin.roles = {"ops-admin"};
  const std::string forged_payload = issuer_.Mint(admin).substr(dot + 1);
  std::string forged = token.substr(0, dot + 1) +
                       forged_payload.substr(0, forged_payload.find('.')) +
                       token.substr(token.rfind('.'));
  ExpectRefused(forged, "signature does not verify");
}

TEST_F(VerifierTest, AlgNoneIsRefused) { ExpectRefused(issuer_.MintUnsigned(), "unsigned"); }

TEST_F(VerifierTest, AnHs256TokenSignedWithThePublicKeyIsRefused) {
  // libjwt 1.10 alone verifies this one (the PEM as HMAC secret); the
  // verifier never lets it choose the algorithm.
  ExpectRefused(issuer_.MintHs256WithPublicKey(), "no key for its algorithm");
}

TEST_F(VerifierTest, HugeAndMalformedTokensAreRefusedBeforeParsing) {
  ExpectRefused(std::string(9000, 'a'), "too long");
  ExpectRefused("", "empty");
  ExpectRefused("abc", "not a signed JWT");
  ExpectRefused("a.b.c.d", "not a signed JWT");
  ExpectRefused("!!.??.**", "not a signed JWT");
  ExpectRefused("eyJhbGciOiJSUzI1NiJ9.e30.", "unsigned");
}

TEST_F(VerifierTest, NewKeysTakeOverOnSetKeys) {
  TestIssuer next;
  EXPECT_FALSE(Verify(next.Mint()).ok());
  verifier_.SetKeys(KeysOf(next));
  EXPECT_TRUE(Verify(next.Mint()).ok());
  EXPECT_FALSE(Verify(issuer_.Mint()).ok());
}

}  // namespace
}  // namespace flywheel::auth
