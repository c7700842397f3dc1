// validate_access_token (RFC 9068 §4): typ, signature (asymmetric only), iss, aud, exp/iat/nbf,
// sub/client_id/jti, required scopes. Real keys, fake time.
#include <gtest/gtest.h>

#if __has_include("test_keys.hpp")  // arrives with the OpenSSL keys (src/jose.cpp)
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt_access_token.hpp"
#include "test_keys.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using oidc::errc;
using oidc::JwsAlgorithm;
using oidc_testing::error_of;

namespace {

const std::string kIssuer = "https://as.example.com";
const std::string kApi = "https://api.example.com";

class AccessTokenTest : public ::testing::Test {
 protected:
  oidc_testing::FakeClock clock;
  const oidc::SigningKey& rs = oidc_testing::test_key(JwsAlgorithm::RS256, "at-rs");
  const oidc::SigningKey& es = oidc_testing::test_key(JwsAlgorithm::ES256, "at-es");
  const oidc::SigningKey& ed = oidc_testing::test_key(JwsAlgorithm::EdDSA, "at-ed");
  oidc::StaticKeySource keys{oidc::JwkSet::parse(oidc_testing::jwks_document({rs, es, ed}))};

  [[nodiscard]] std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  }
  [[nodiscard]] json claims() const {
    return {{"iss", kIssuer},          {"aud", kApi},   {"exp", now() + 300}, {"iat", now()},
            {"sub", "user-1"},         {"client_id", "web-app"}, {"jti", "jti-1"},
            {"scope", "openid orders:read  orders:write"}};
  }
  [[nodiscard]] oidc::AccessTokenChecks checks() const {
    oidc::AccessTokenChecks c;
    c.issuer = kIssuer;
    c.audience = kApi;
    c.now = clock.now();
    c.algorithms = {JwsAlgorithm::RS256, JwsAlgorithm::ES256, JwsAlgorithm::EdDSA};
    return c;
  }
  std::string sign(const json& payload, const std::string& typ = "at+jwt", const oidc::SigningKey* key = nullptr) {
    json header = json::object();
    if (!typ.empty()) header["typ"] = typ;
    return oidc::sign_compact_jws(key ? *key : rs, header, payload);
  }
  errc code(const std::string& jwt, const oidc::AccessTokenChecks& c) {
    return error_of([&] { (void)oidc::validate_access_token(jwt, keys, c); }).code();
  }
  errc code(const std::string& jwt) { return code(jwt, checks()); }
  errc code_with(const char* claim, const json& value) {
    auto c = claims();
    c[claim] = value;
    return code(sign(c));
  }
  errc code_without(const char* claim) {
    auto c = claims();
    c.erase(claim);
    return code(sign(c));
  }
};

}  // namespace

TEST_F(AccessTokenTest, ValidTokenGivesItsClaims) {
  const auto t = oidc::validate_access_token(sign(claims()), keys, checks());
  EXPECT_EQ(t.issuer(), kIssuer);
  EXPECT_EQ(t.subject(), "user-1");
  EXPECT_EQ(t.client_id(), "web-app");
  EXPECT_EQ(t.jwt_id(), "jti-1");
  EXPECT_EQ(t.audience(), std::vector<std::string>{kApi});
  EXPECT_EQ(t.scopes(), (std::vector<std::string>{"openid", "orders:read", "orders:write"}));
  EXPECT_TRUE(t.has_scope("orders:read"));
  EXPECT_FALSE(t.has_scope("orders"));
  EXPECT_EQ(t.expires_at(), clock.now() + 300s);
  EXPECT_EQ(t.issued_at(), clock.now());
  EXPECT_EQ(t.header()["typ"], "at+jwt");
  EXPECT_EQ(t.claims()["client_id"], "web-app");
}

TEST_F(AccessTokenTest, EcdsaAndEdDsaValidate) {
  EXPECT_NO_THROW((void)oidc::validate_access_token(sign(claims(), "at+jwt", &es), keys, checks()));
  EXPECT_NO_THROW((void)oidc::validate_access_token(sign(claims(), "at+jwt", &ed), keys, checks()));
}

TEST_F(AccessTokenTest, TypMustBeAtJwt) {
  for (const char* ok : {"at+jwt", "application/at+jwt", "AT+JWT", "Application/At+Jwt"})
    EXPECT_NO_THROW((void)oidc::validate_access_token(sign(claims(), ok), keys, checks())) << ok;
  for (const char* bad : {"", "JWT", "at+jwt ", "application/jwt", "at+jwt; x=1"})
    EXPECT_EQ(code(sign(claims(), bad)), errc::token_type_mismatch) << bad;
}

TEST_F(AccessTokenTest, HmacIsNeverAccepted) {
  const auto hs = oidc::SigningKey::from_secret(oidc::Secret("shared-secret-shared-secret-shared"), JwsAlgorithm::HS256);
  EXPECT_EQ(code(sign(claims(), "at+jwt", &hs)), errc::algorithm_rejected);
  auto c = checks();
  c.algorithms.push_back(JwsAlgorithm::HS256);
  EXPECT_EQ(code(sign(claims()), c), errc::config);
  // An algorithm outside the list.
  c = checks();
  c.algorithms = {JwsAlgorithm::ES256};
  EXPECT_EQ(code(sign(claims()), c), errc::algorithm_rejected);
}

TEST_F(AccessTokenTest, SignatureMustVerify) {
  const auto jwt = sign(claims());
  EXPECT_EQ(code(jwt.substr(0, jwt.size() - 2) + (jwt.substr(jwt.size() - 2) == "AA" ? "BA" : "AA")),
            errc::signature_invalid);
  const auto stranger = oidc_testing::test_key(JwsAlgorithm::RS256, "not-in-set");
  EXPECT_EQ(code(sign(claims(), "at+jwt", &stranger)), errc::key_not_found);
}

TEST_F(AccessTokenTest, IssuerAndAudience) {
  EXPECT_EQ(code_with("iss", "https://as.example.com/"), errc::issuer_mismatch);
  EXPECT_EQ(code_without("iss"), errc::missing_claim);
  EXPECT_EQ(code_with("aud", "https://other-api.example.com"), errc::audience_mismatch);
  EXPECT_NO_THROW((void)oidc::validate_access_token(
      sign([&] { auto c = claims(); c["aud"] = json::array({"x", kApi}); return c; }()), keys, checks()));
  EXPECT_EQ(code_without("aud"), errc::missing_claim);
}

TEST_F(AccessTokenTest, TimesWithLeeway) {
  EXPECT_EQ(code_with("exp", now() - 30), errc::token_expired);
  EXPECT_NO_THROW((void)oidc::validate_access_token(
      sign([&] { auto c = claims(); c["exp"] = now() - 29; return c; }()), keys, checks()));
  EXPECT_EQ(code_with("iat", now() + 31), errc::token_not_yet_valid);
  EXPECT_EQ(code_with("nbf", now() + 31), errc::token_not_yet_valid);
  EXPECT_EQ(code_without("exp"), errc::missing_claim);
  EXPECT_EQ(code_without("iat"), errc::missing_claim);
}

TEST_F(AccessTokenTest, SubClientIdAndJtiAreRequired) {
  for (const char* claim : {"sub", "client_id", "jti"}) {
    EXPECT_EQ(code_without(claim), errc::missing_claim) << claim;
    EXPECT_EQ(code_with(claim, 12), errc::missing_claim) << claim;
  }
}

TEST_F(AccessTokenTest, RequiredScopes) {
  auto c = checks();
  c.required_scopes = {"orders:read", "orders:write"};
  EXPECT_NO_THROW((void)oidc::validate_access_token(sign(claims()), keys, c));
  c.required_scopes = {"orders:delete"};
  EXPECT_EQ(code(sign(claims()), c), errc::insufficient_scope);
  c.required_scopes = {"orders"};  // a prefix is not the scope
  EXPECT_EQ(code(sign(claims()), c), errc::insufficient_scope);
  auto no_scope = claims();
  no_scope.erase("scope");
  c.required_scopes = {"openid"};
  EXPECT_EQ(code(sign(no_scope), c), errc::insufficient_scope);
  EXPECT_NO_THROW((void)oidc::validate_access_token(sign(no_scope), keys, checks()));
  EXPECT_EQ(code_with("scope", json::array({"openid"})), errc::missing_claim);
  EXPECT_EQ(code_with("scope", "openid \"quoted\""), errc::missing_claim);
}

#endif  // __has_include("test_keys.hpp")
