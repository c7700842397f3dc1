// validate_id_token (OIDC Core 3.1.3.7, 3.2.2.11, 12.2): one negative test per rule, every
// algorithm positive, boundaries of every time rule, the refresh rules. Real keys, fake time.
#include <gtest/gtest.h>

#if __has_include("test_keys.hpp")  // arrives with the OpenSSL keys (src/jose.cpp)
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "message_hygiene.hpp"
#include "oidc/crypto.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/id_token.hpp"
#include "oidc/jwk_set.hpp"
#include "test_keys.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using oidc::errc;
using oidc::JwsAlgorithm;
using oidc_testing::error_of;

namespace {

const std::string kIssuer = "https://sso.example.com/realms/core";
const std::string kClient = "my-app";
const std::string kNonce = "n-0S6_WzA2Mj";
const oidc::Secret kClientSecret("client-secret-that-is-long-enough-for-hs512-keys-0123456789abcdef");

std::vector<oidc::SigningKey> asymmetric_keys() {
  std::vector<oidc::SigningKey> keys;
  for (const auto alg : oidc::all_jws_algorithms)
    if (!oidc::is_symmetric(alg)) keys.push_back(oidc_testing::test_key(alg, "k-" + std::string(oidc::to_string(alg))));
  return keys;
}

const oidc::SigningKey& key_for(JwsAlgorithm alg) {
  if (oidc::is_symmetric(alg)) {
    static const auto hs256 = oidc::SigningKey::from_secret(kClientSecret, JwsAlgorithm::HS256);
    static const auto hs384 = oidc::SigningKey::from_secret(kClientSecret, JwsAlgorithm::HS384);
    static const auto hs512 = oidc::SigningKey::from_secret(kClientSecret, JwsAlgorithm::HS512);
    return alg == JwsAlgorithm::HS256 ? hs256 : alg == JwsAlgorithm::HS384 ? hs384 : hs512;
  }
  return oidc_testing::test_key(alg, "k-" + std::string(oidc::to_string(alg)));
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class IdTokenTest : public ::testing::Test {
 protected:
  oidc_testing::FakeClock clock;
  oidc::StaticKeySource keys{oidc::JwkSet::parse(oidc_testing::jwks_document(asymmetric_keys()))};

  [[nodiscard]] std::int64_t now() const { return unix_seconds(clock.now()); }

  [[nodiscard]] json claims() const {
    return {{"iss", kIssuer}, {"sub", "248289761001"}, {"aud", kClient},         {"exp", now() + 300},
            {"iat", now()},   {"nonce", kNonce},       {"email", "a@example.com"}, {"email_verified", true},
            {"name", "Alice"}, {"amr", {"pwd", "otp"}}};
  }

  [[nodiscard]] oidc::IdTokenChecks checks() const {
    oidc::IdTokenChecks c;
    c.issuer = kIssuer;
    c.client_id = kClient;
    c.now = clock.now();
    c.nonce = kNonce;
    return c;
  }

  static std::string sign(const json& payload, JwsAlgorithm alg = JwsAlgorithm::RS256, json header = json::object()) {
    return oidc::sign_compact_jws(key_for(alg), std::move(header), payload);
  }

  oidc::IdToken validate(const std::string& jwt) { return oidc::validate_id_token(jwt, keys, checks()); }
  oidc::IdToken validate(const std::string& jwt, const oidc::IdTokenChecks& c) {
    return oidc::validate_id_token(jwt, keys, c);
  }
  errc code(const std::string& jwt) { return code(jwt, checks()); }
  errc code(const std::string& jwt, const oidc::IdTokenChecks& c) {
    return error_of([&] { (void)oidc::validate_id_token(jwt, keys, c); }).code();
  }
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

TEST_F(IdTokenTest, ValidTokenGivesTypedClaims) {
  const auto jwt = sign(claims());
  const auto t = validate(jwt);
  EXPECT_EQ(t.raw(), jwt);
  EXPECT_EQ(t.issuer(), kIssuer);
  EXPECT_EQ(t.subject(), "248289761001");
  EXPECT_EQ(t.audience(), std::vector<std::string>{kClient});
  EXPECT_EQ(t.expires_at(), clock.now() + 300s);
  EXPECT_EQ(t.issued_at(), clock.now());
  EXPECT_EQ(t.auth_time(), std::nullopt);
  EXPECT_EQ(t.nonce(), kNonce);
  EXPECT_EQ(t.authorized_party(), std::nullopt);
  EXPECT_EQ(t.email(), "a@example.com");
  EXPECT_EQ(t.email_verified(), true);
  EXPECT_EQ(t.name(), "Alice");
  EXPECT_EQ(t.preferred_username(), std::nullopt);
  EXPECT_EQ(t.amr(), (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(t.string_claim("email_verified"), std::nullopt);  // not a string
  EXPECT_EQ(t.claims().value("email", ""), "a@example.com");
  EXPECT_EQ(t.header()["kid"], "k-RS256");
  std::ostringstream shown;
  shown << t;
  EXPECT_EQ(shown.str().find(jwt), std::string::npos);
  EXPECT_NE(shown.str().find("248289761001"), std::string::npos);
}

TEST_F(IdTokenTest, EveryAlgorithmValidates) {
  for (const auto alg : oidc::all_jws_algorithms) {
    auto c = checks();
    c.algorithms = {alg};
    if (oidc::is_symmetric(alg)) c.client_secret = kClientSecret;
    EXPECT_NO_THROW((void)validate(sign(claims(), alg), c)) << oidc::to_string(alg);
  }
}

// ---- Algorithms and keys ------------------------------------------------------------------------

TEST_F(IdTokenTest, AlgorithmNotInTheAllowListIsRejected) {
  EXPECT_EQ(code(sign(claims(), JwsAlgorithm::RS384)), errc::algorithm_rejected);  // default: RS256 only
  EXPECT_EQ(code(sign(claims(), JwsAlgorithm::ES256)), errc::algorithm_rejected);
}

TEST_F(IdTokenTest, UnsignedAndUnknownAlgorithmsAreRejected) {
  const auto payload = oidc::detail::base64url_encode(claims().dump());
  for (const char* alg : {"none", "None", "NONE", "HS1", "RS256 "}) {
    const auto token = oidc::detail::base64url_encode(json{{"alg", alg}}.dump()) + "." + payload + ".";
    EXPECT_EQ(code(token), errc::algorithm_rejected) << alg;
  }
}

TEST_F(IdTokenTest, HmacNeedsTheClientSecretAndTheAllowList) {
  const auto jwt = sign(claims(), JwsAlgorithm::HS256);
  auto c = checks();
  c.algorithms = {JwsAlgorithm::RS256, JwsAlgorithm::HS256};
  EXPECT_EQ(code(jwt, c), errc::algorithm_rejected);  // no client secret: only public keys
  c.client_secret = kClientSecret;
  EXPECT_NO_THROW((void)validate(jwt, c));
  c.algorithms = {JwsAlgorithm::RS256};
  EXPECT_EQ(code(jwt, c), errc::algorithm_rejected);  // secret, but HS256 not allowed
  c.algorithms = {JwsAlgorithm::HS256};
  c.client_secret = oidc::Secret("a-different-client-secret-0123456789");
  EXPECT_EQ(code(jwt, c), errc::signature_invalid);
}

// The provider's RSA public key (its JWK text, modulus) used as the HMAC secret of a forged HS256
// token: rejected without a client secret, and a signature failure with one.
TEST_F(IdTokenTest, RsaPublicKeyAsHmacSecretIsRejected) {
  const auto jwk = key_for(JwsAlgorithm::RS256).public_jwk();
  for (const auto& bytes : {jwk.dump(), jwk["n"].get<std::string>(),
                            *oidc::detail::base64url_decode_strict(jwk["n"].get<std::string>())}) {
    const auto forged_key = oidc::SigningKey::from_secret(oidc::Secret(bytes), JwsAlgorithm::HS256, "k-RS256");
    const auto forged = oidc::sign_compact_jws(forged_key, json::object(), claims());
    auto c = checks();
    c.algorithms = {JwsAlgorithm::RS256, JwsAlgorithm::HS256};
    EXPECT_EQ(code(forged, c), errc::algorithm_rejected);
    c.client_secret = kClientSecret;
    EXPECT_EQ(code(forged, c), errc::signature_invalid);
  }
}

TEST_F(IdTokenTest, UnknownKidAndTamperedSignature) {
  const auto stranger = oidc_testing::test_key(JwsAlgorithm::RS256, "unknown-kid");
  EXPECT_EQ(code(oidc::sign_compact_jws(stranger, json::object(), claims())), errc::key_not_found);
  // The right kid, but another key's signature.
  const auto impostor = oidc_testing::test_key(JwsAlgorithm::RS256, "impostor");
  auto jwt = sign(claims());
  const auto other = oidc::sign_compact_jws(impostor, {{"kid", "k-RS256"}}, claims());
  EXPECT_EQ(code(jwt.substr(0, jwt.rfind('.')) + other.substr(other.rfind('.'))), errc::signature_invalid);
  // A claim changed after signing.
  auto changed = claims();
  changed["sub"] = "mallory";
  const auto forged = jwt.substr(0, jwt.find('.') + 1) + oidc::detail::base64url_encode(changed.dump()) +
                      jwt.substr(jwt.rfind('.'));
  EXPECT_EQ(code(forged), errc::signature_invalid);
}

TEST_F(IdTokenTest, StructuralProblemsAreMalformed) {
  EXPECT_EQ(code("a.b"), errc::jwt_malformed);
  EXPECT_EQ(code("a.b.c.d.e"), errc::jwt_malformed);
  EXPECT_EQ(code(sign(claims()) + "="), errc::jwt_malformed);
  EXPECT_EQ(code(sign(claims(), JwsAlgorithm::RS256, {{"crit", {"exp"}}, {"exp", 1}})), errc::jwt_malformed);
  // A duplicated claim, correctly signed.
  const auto header = oidc::detail::base64url_encode(R"({"alg":"RS256","kid":"k-RS256"})");
  auto text = claims().dump();
  text.insert(text.size() - 1, R"(,"sub":"mallory")");
  const auto input = header + "." + oidc::detail::base64url_encode(text);
  const auto jwt = input + "." + oidc::detail::base64url_encode(key_for(JwsAlgorithm::RS256).sign(input));
  EXPECT_EQ(code(jwt), errc::jwt_malformed);
}

TEST_F(IdTokenTest, AnAccessTokenIsNotAnIdToken) {
  for (const char* typ : {"at+jwt", "application/at+jwt", "AT+JWT"})
    EXPECT_EQ(code(sign(claims(), JwsAlgorithm::RS256, {{"typ", typ}})), errc::token_type_mismatch) << typ;
  EXPECT_NO_THROW((void)validate(sign(claims(), JwsAlgorithm::RS256, {{"typ", "JWT"}})));
}

// ---- Claims ---------------------------------------------------------------------------------------

TEST_F(IdTokenTest, IssuerMustMatchExactly) {
  EXPECT_EQ(code_with("iss", kIssuer + "/"), errc::issuer_mismatch);
  EXPECT_EQ(code_with("iss", "https://SSO.example.com/realms/core"), errc::issuer_mismatch);
  EXPECT_EQ(code_with("iss", "https://evil.example.com"), errc::issuer_mismatch);
  EXPECT_EQ(code_with("iss", 7), errc::missing_claim);
  EXPECT_EQ(code_without("iss"), errc::missing_claim);
}

TEST_F(IdTokenTest, SubjectMustBeANonEmptyShortString) {
  EXPECT_EQ(code_without("sub"), errc::missing_claim);
  EXPECT_EQ(code_with("sub", ""), errc::missing_claim);
  EXPECT_EQ(code_with("sub", 42), errc::missing_claim);
  EXPECT_EQ(code_with("sub", std::string(256, 's')), errc::missing_claim);
  auto c = claims();
  c["sub"] = std::string(255, 's');
  EXPECT_NO_THROW((void)validate(sign(c)));
}

TEST_F(IdTokenTest, AudienceMustContainTheClient) {
  EXPECT_EQ(code_with("aud", "other-app"), errc::audience_mismatch);
  EXPECT_EQ(code_with("aud", json::array({"other-app"})), errc::audience_mismatch);
  EXPECT_EQ(code_without("aud"), errc::missing_claim);
  EXPECT_EQ(code_with("aud", json::array()), errc::missing_claim);
  EXPECT_EQ(code_with("aud", json::array({kClient, 3})), errc::missing_claim);
  EXPECT_EQ(code_with("aud", json::object()), errc::missing_claim);
  auto c = claims();
  c["aud"] = json::array({kClient});
  EXPECT_NO_THROW((void)validate(sign(c)));
}

TEST_F(IdTokenTest, SeveralAudiencesNeedAzpEqualToTheClient) {
  auto c = claims();
  c["aud"] = json::array({kClient, "api"});
  EXPECT_EQ(code(sign(c)), errc::audience_mismatch);  // no azp
  c["azp"] = "api";
  EXPECT_EQ(code(sign(c)), errc::audience_mismatch);
  c["azp"] = kClient;
  const auto t = validate(sign(c));
  EXPECT_EQ(t.audience(), (std::vector<std::string>{kClient, "api"}));
  EXPECT_EQ(t.authorized_party(), kClient);
  EXPECT_EQ(code_with("azp", "someone-else"), errc::audience_mismatch);  // one audience, foreign azp
  EXPECT_EQ(code_with("azp", true), errc::missing_claim);
}

TEST_F(IdTokenTest, ExpiryBoundaryWithLeeway) {
  auto c = claims();
  c["exp"] = now() - 30;  // exp + leeway == now: expired
  EXPECT_EQ(code(sign(c)), errc::token_expired);
  c["exp"] = now() - 29;
  EXPECT_NO_THROW((void)validate(sign(c)));
  auto no_leeway = checks();
  no_leeway.leeway = 0s;
  c["exp"] = now();
  EXPECT_EQ(code(sign(c), no_leeway), errc::token_expired);
  c["exp"] = now() + 1;
  EXPECT_NO_THROW((void)validate(sign(c), no_leeway));
  // The same token expires when the caller's clock moves on.
  const auto jwt = sign(claims());
  clock.advance(300s + 30s);
  EXPECT_EQ(code(jwt), errc::token_expired);
}

TEST_F(IdTokenTest, IssuedInTheFutureBoundaryWithLeeway) {
  EXPECT_NO_THROW((void)validate(sign([&] { auto c = claims(); c["iat"] = now() + 30; return c; }())));
  EXPECT_EQ(code_with("iat", now() + 31), errc::token_not_yet_valid);
}

TEST_F(IdTokenTest, NotBeforeBoundaryWithLeeway) {
  EXPECT_NO_THROW((void)validate(sign([&] { auto c = claims(); c["nbf"] = now() + 30; return c; }())));
  EXPECT_EQ(code_with("nbf", now() + 31), errc::token_not_yet_valid);
  EXPECT_EQ(code_with("nbf", "soon"), errc::missing_claim);
}

TEST_F(IdTokenTest, TimesMustBeNumericDatesInRange) {
  EXPECT_EQ(code_without("exp"), errc::missing_claim);
  EXPECT_EQ(code_without("iat"), errc::missing_claim);
  for (const json& bad : {json("1700000300"), json(-1), json(1e300), json(nullptr), json(true), json(1e10)}) {
    EXPECT_EQ(code_with("exp", bad), errc::missing_claim) << bad.dump();
    EXPECT_EQ(code_with("iat", bad), errc::missing_claim) << bad.dump();
  }
  auto c = claims();
  c["exp"] = static_cast<double>(now()) + 100.75;  // fractions are fine
  EXPECT_EQ(validate(sign(c)).expires_at(), clock.now() + 100s);
}

TEST_F(IdTokenTest, NonceMustBeTheOneSent) {
  EXPECT_EQ(code_with("nonce", "another"), errc::nonce_mismatch);
  EXPECT_EQ(code_with("nonce", kNonce + "x"), errc::nonce_mismatch);
  EXPECT_EQ(code_without("nonce"), errc::nonce_mismatch);
  EXPECT_EQ(code_with("nonce", 5), errc::missing_claim);
  auto c = checks();
  c.nonce.clear();  // none was sent: the claim is not checked
  auto no_nonce = claims();
  no_nonce.erase("nonce");
  EXPECT_NO_THROW((void)validate(sign(no_nonce), c));
}

TEST_F(IdTokenTest, MaxAgeNeedsARecentAuthTime) {
  auto c = checks();
  c.max_age = 600s;
  auto claims_ = claims();
  EXPECT_EQ(code(sign(claims_), c), errc::auth_time_too_old);  // absent
  claims_["auth_time"] = now() - 630;  // auth_time + max_age + leeway == now: still fine
  const auto t = validate(sign(claims_), c);
  EXPECT_EQ(t.auth_time(), clock.now() - 630s);
  claims_["auth_time"] = now() - 631;
  EXPECT_EQ(code(sign(claims_), c), errc::auth_time_too_old);
  claims_["auth_time"] = "yesterday";
  EXPECT_EQ(code(sign(claims_), c), errc::missing_claim);
  // Without max_age an old auth_time is only reported.
  claims_["auth_time"] = now() - 100000;
  EXPECT_EQ(validate(sign(claims_)).auth_time(), clock.now() - 100000s);
}

// OIDC Core 3.1.3.6 / 3.3.2.11; the values of OIDC Core Appendix A.4 and A.6 (RS256).
TEST_F(IdTokenTest, AtHashAndCHashMatchTheSpecificationExamples) {
  const std::string access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
  const std::string code_value = "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk";
  auto c = claims();
  c["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ";
  c["c_hash"] = "LDktKdoQak3Pk0cnXxCltA";
  auto ch = checks();
  ch.access_token = access_token;
  ch.require_at_hash = true;
  ch.code = code_value;
  ch.require_c_hash = true;
  EXPECT_NO_THROW((void)validate(sign(c), ch));
  // An independent SHA-256 agrees with the specification's at_hash.
  const auto digest = oidc::sha256(access_token);
  EXPECT_EQ(oidc::detail::base64url_encode(std::string(digest.begin(), digest.begin() + 16)), "77QmUPtjPfzWtF2AnpK9RQ");

  auto wrong = c;
  wrong["at_hash"] = "77QmUPtjPfzWtF2AnpK9RA";
  EXPECT_EQ(code(sign(wrong), ch), errc::hash_mismatch);
  wrong = c;
  wrong["c_hash"] = "LDktKdoQak3Pk0cnXxCltB";
  EXPECT_EQ(code(sign(wrong), ch), errc::hash_mismatch);
  wrong = c;
  wrong.erase("at_hash");
  EXPECT_EQ(code(sign(wrong), ch), errc::missing_claim);  // required (implicit id_token token)
  wrong = c;
  wrong.erase("c_hash");
  EXPECT_EQ(code(sign(wrong), ch), errc::missing_claim);  // required (hybrid)
  ch.require_at_hash = ch.require_c_hash = false;
  EXPECT_NO_THROW((void)validate(sign(wrong), ch));  // optional (code flow): absent is fine
  wrong["at_hash"] = 17;
  EXPECT_EQ(code(sign(wrong), ch), errc::missing_claim);
}

TEST_F(IdTokenTest, AtHashUsesTheHashOfTheAlgorithm) {
  const std::string access_token = "an-access-token";
  for (const auto alg : {JwsAlgorithm::ES384, JwsAlgorithm::PS512, JwsAlgorithm::EdDSA}) {
    const auto h = oidc::jws_hash(alg, access_token);
    auto c = claims();
    c["at_hash"] = oidc::detail::base64url_encode(h.substr(0, h.size() / 2));
    auto ch = checks();
    ch.algorithms = {alg};
    ch.access_token = access_token;
    EXPECT_NO_THROW((void)validate(sign(c, alg), ch)) << oidc::to_string(alg);
    // The SHA-256 half is not accepted for a *384/*512 token.
    const auto sha = oidc::sha256(access_token);
    c["at_hash"] = oidc::detail::base64url_encode(std::string(sha.begin(), sha.begin() + 16));
    EXPECT_EQ(code(sign(c, alg), ch), errc::hash_mismatch) << oidc::to_string(alg);
  }
}

// ---- OIDC Core 12.2: a refreshed ID token --------------------------------------------------------

TEST_F(IdTokenTest, RefreshedTokenKeepsIssSubAudAuthTimeAndNonce) {
  auto original_claims = claims();
  original_claims["auth_time"] = now() - 10;
  const auto original = validate(sign(original_claims));
  clock.advance(600s);
  auto c = checks();
  c.nonce.clear();  // a refresh sends no nonce
  c.previous = &original;
  auto fresh = claims();  // new iat and exp
  fresh["auth_time"] = original_claims["auth_time"];
  EXPECT_NO_THROW((void)validate(sign(fresh), c));
  auto without_nonce = fresh;
  without_nonce.erase("nonce");
  EXPECT_NO_THROW((void)validate(sign(without_nonce), c));
  auto without_auth_time = fresh;
  without_auth_time.erase("auth_time");
  EXPECT_NO_THROW((void)validate(sign(without_auth_time), c));

  auto changed = fresh;
  changed["sub"] = "someone-else";
  EXPECT_EQ(code(sign(changed), c), errc::subject_mismatch);
  changed = fresh;
  changed["aud"] = json::array({kClient, "api"});
  changed["azp"] = kClient;
  EXPECT_EQ(code(sign(changed), c), errc::audience_mismatch);
  changed = fresh;
  changed["auth_time"] = now() - 5;
  EXPECT_EQ(code(sign(changed), c), errc::auth_time_too_old);
  changed = fresh;
  changed["nonce"] = "another-nonce";
  EXPECT_EQ(code(sign(changed), c), errc::nonce_mismatch);
}

TEST_F(IdTokenTest, RefreshedTokenFromAnotherIssuerIsRefused) {
  const std::string other_issuer = "https://other.example.com";
  auto first = claims();
  first["iss"] = other_issuer;
  auto first_checks = checks();
  first_checks.issuer = other_issuer;
  const auto original = validate(sign(first), first_checks);
  auto c = checks();
  c.previous = &original;
  EXPECT_EQ(code(sign(claims()), c), errc::issuer_mismatch);
}

// ---- Configuration and messages ------------------------------------------------------------------

TEST_F(IdTokenTest, IncompleteChecksAreConfigErrors) {
  auto c = checks();
  c.now = {};
  EXPECT_EQ(code(sign(claims()), c), errc::config);
  c = checks();
  c.issuer.clear();
  EXPECT_EQ(code(sign(claims()), c), errc::config);
  c = checks();
  c.require_at_hash = true;
  EXPECT_EQ(code(sign(claims()), c), errc::config);
}

TEST_F(IdTokenTest, MessagesAreCleanAndNeverContainTheToken) {
  auto c = claims();
  c["iss"] = "https://evil.example.com/\x1b[2J\r\nX-Injected: 1";
  const auto jwt = sign(c);
  const auto e = error_of([&] { (void)validate(jwt); });
  EXPECT_EQ(e.code(), errc::issuer_mismatch);
  EXPECT_TRUE(oidc_testing::is_clean(e, {jwt, jwt.substr(jwt.rfind('.') + 1)}));
  c = claims();
  c["nonce"] = "secret-looking-nonce-value";
  const auto n = error_of([&] { (void)validate(sign(c)); });
  EXPECT_EQ(n.code(), errc::nonce_mismatch);
  EXPECT_TRUE(oidc_testing::is_clean(n, {"secret-looking-nonce-value", kNonce}));
}

#endif  // __has_include("test_keys.hpp")
