// parse_jws (structure, base64url, JSON, header rules) and verify_jws (allow-list, HMAC only with
// the caller's secret, key selection, signatures with real keys of every algorithm).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/jwt.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"
// Until the OpenSSL keys land (src/jose.cpp, tests/support/test_keys.hpp), only parsing is tested.
#if __has_include("test_keys.hpp")
#include "test_keys.hpp"
#define OIDC_HAVE_TEST_KEYS 1
#endif

using nlohmann::json;
using oidc::errc;
using oidc::JwsAlgorithm;
using oidc_testing::error_of;

namespace {

const std::string op = "test";

std::string b64(const std::string& s) { return oidc::detail::base64url_encode(s); }

// header.payload.signature from JSON texts, unsigned (the signature is arbitrary bytes).
std::string compact(const std::string& header, const std::string& payload = R"({"sub":"alice"})",
                    const std::string& signature = "sig") {
  return b64(header) + "." + b64(payload) + "." + b64(signature);
}

errc parse_code(const std::string& token) {
  return error_of([&] { (void)oidc::parse_jws(token, op); }).code();
}

}  // namespace

TEST(ParseJws, ReadsHeaderPayloadAndSignature) {
  const auto token = compact(R"({"alg":"RS256","kid":"k1","typ":"JWT"})", R"({"sub":"alice","n":1})", "\x01\x02");
  const auto jws = oidc::parse_jws(token, op);
  EXPECT_EQ(jws.alg, JwsAlgorithm::RS256);
  EXPECT_EQ(jws.kid, "k1");
  EXPECT_EQ(jws.typ, "JWT");
  EXPECT_EQ(jws.payload["sub"], "alice");
  EXPECT_EQ(jws.signature, "\x01\x02");
  EXPECT_EQ(jws.signing_input, token.substr(0, token.rfind('.')));
  const auto bare = oidc::parse_jws(compact(R"({"alg":"ES256"})"), op);
  EXPECT_EQ(bare.kid, std::nullopt);
  EXPECT_EQ(bare.typ, "");
}

TEST(ParseJws, RefusesAlgNoneInAnyCaseAndUnknownOrMissingAlg) {
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":"nOnE"})",
                             R"({"alg":"RS1"})", R"({"alg":"rs256"})", R"({"alg":""})", R"({"alg":null})",
                             R"({"alg":["RS256"]})", R"({"alg":256})", R"({"kid":"k"})"}) {
    const auto e = error_of([&] { (void)oidc::parse_jws(compact(header, R"({"sub":"a"})", ""), op); });
    EXPECT_EQ(e.code(), errc::algorithm_rejected) << header;
  }
  const auto e = error_of([&] { (void)oidc::parse_jws(compact(R"({"alg":"none"})", "{}", ""), op); });
  EXPECT_NE(std::string(e.what()).find("none"), std::string::npos);
}

TEST(ParseJws, RefusesWrongSegmentCountsAndNamesAJwe) {
  EXPECT_EQ(parse_code(""), errc::jwt_malformed);
  EXPECT_EQ(parse_code("abc"), errc::jwt_malformed);
  EXPECT_EQ(parse_code(b64(R"({"alg":"RS256"})") + "." + b64("{}")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})") + ".x"), errc::jwt_malformed);
  const auto jwe = error_of([&] { (void)oidc::parse_jws(b64(R"({"alg":"RSA-OAEP","enc":"A256GCM"})") + ".a.b.c.d", op); });
  EXPECT_EQ(jwe.code(), errc::jwt_malformed);
  EXPECT_NE(std::string(jwe.what()).find("JWE"), std::string::npos) << jwe.what();
}

TEST(ParseJws, RefusesNonStrictBase64url) {
  const auto header = b64(R"({"alg":"RS256"})");
  const auto payload = b64(R"({"sub":"alice"})");
  for (const auto& token : {header + "=." + payload + ".c2ln",             // padding
                            header + "." + payload + "+/.c2ln",            // standard alphabet
                            header + "." + payload + ".c2ln=",             // padded signature
                            header + " ." + payload + ".c2ln",             // space
                            header + "." + payload + ".c2l",               // non-zero trailing bits ("si" is c2k)
                            header + "." + payload + ".c"})                // a lone character
    EXPECT_EQ(parse_code(token), errc::jwt_malformed) << token;
}

TEST(ParseJws, RefusesHeadersAndPayloadsThatAreNotJsonObjects) {
  EXPECT_EQ(parse_code(compact("[1]")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact("not json")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", "[]")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", "\"alice\"")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", "")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", R"({"sub":"a"} x)")), errc::jwt_malformed);
}

TEST(ParseJws, RefusesDuplicateMembersInHeaderOrPayload) {
  // Which duplicate wins differs between parsers: {"alg":"HS256","alg":"RS256"} must not be read as either.
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","alg":"HS256"})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", R"({"sub":"alice","sub":"mallory"})")), errc::jwt_malformed);
}

TEST(ParseJws, RefusesDeepNestingAndHugeTokensBeforeParsing) {
  const std::string deep = R"({"alg":"RS256","x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_EQ(parse_code(compact(deep)), errc::jwt_malformed);
  const std::string deep_payload = R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256"})", deep_payload)), errc::jwt_malformed);
  const std::string huge_header = R"({"alg":"RS256","x":")" + std::string(oidc::max_jws_bytes, 'a') + "\"}";
  const auto e = error_of([&] { (void)oidc::parse_jws(compact(huge_header), op); });
  EXPECT_EQ(e.code(), errc::jwt_malformed);
  EXPECT_NE(std::string(e.what()).find("longer than"), std::string::npos) << e.what();
  // Just under the limit parses.
  const std::string big = R"({"alg":"RS256","x":")" + std::string(40'000, 'a') + "\"}";
  EXPECT_NO_THROW((void)oidc::parse_jws(compact(big), op));
}

TEST(ParseJws, RefusesCritUnencodedPayloadAndMistypedKidOrTyp) {
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","crit":["exp"],"exp":1})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","crit":[]})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","b64":false,"crit":["b64"]})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","b64":false})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","b64":"no"})")), errc::jwt_malformed);
  EXPECT_NO_THROW((void)oidc::parse_jws(compact(R"({"alg":"RS256","b64":true})"), op));
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","kid":7})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","kid":null})")), errc::jwt_malformed);
  EXPECT_EQ(parse_code(compact(R"({"alg":"RS256","typ":["JWT"]})")), errc::jwt_malformed);
}

TEST(ParseJws, MessagesQuoteNothingRawFromTheToken) {
  const auto e = error_of([&] { (void)oidc::parse_jws(compact("{\"alg\":\"RS\\u001b[31m\"}"), op); });
  EXPECT_EQ(e.code(), errc::algorithm_rejected);
  EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << e.what();
  const auto dup = error_of([&] { (void)oidc::parse_jws(compact(R"({"alg":"RS256"})", R"({"secret-value":1,"secret-value":2})"), op); });
  EXPECT_EQ(dup.code(), errc::jwt_malformed);
}

TEST(SplitCompact, OneSplitterForParseJwsAndTheExpHint) {
  const auto parts = oidc::detail::split_compact("a.b.c");
  EXPECT_EQ(parts.segments, 3u);
  EXPECT_EQ(parts.header, "a");
  EXPECT_EQ(parts.payload, "b");
  EXPECT_EQ(parts.signature, "c");
  EXPECT_EQ(parts.signing_input, "a.b");
  EXPECT_EQ(oidc::detail::split_compact("a.b.c.d.e").segments, 5u);
  EXPECT_EQ(oidc::detail::split_compact("").segments, 1u);
  EXPECT_EQ(oidc::detail::split_compact("..").segments, 3u);
  // The hint reads no payload out of a JWE-shaped token.
  EXPECT_EQ(oidc::detail::unverified_jwt_payload(b64("{}") + "." + b64(R"({"exp":1})") + ".c.d.e"), std::nullopt);
}

// ---- verify_jws with real keys ---------------------------------------------------------------
#ifdef OIDC_HAVE_TEST_KEYS

namespace {

oidc::StaticKeySource source_of(const std::vector<oidc::SigningKey>& keys) {
  return oidc::StaticKeySource(oidc::JwkSet::parse(oidc_testing::jwks_document(keys)));
}

// The RSA public key of a JWK as SubjectPublicKeyInfo DER and PEM, built by hand (RFC 8017 A.1.1,
// RFC 5280 4.1): the bytes an attacker would feed to HMAC in a key-confusion attack.
std::string der(unsigned char tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  if (body.size() < 128) {
    out += static_cast<char>(body.size());
  } else if (body.size() < 256) {
    out += "\x81";
    out += static_cast<char>(body.size());
  } else {
    out += "\x82";
    out += static_cast<char>(body.size() >> 8);
    out += static_cast<char>(body.size() & 0xFF);
  }
  return out + body;
}
std::string der_integer(std::string magnitude) {
  if (!magnitude.empty() && (static_cast<unsigned char>(magnitude[0]) & 0x80)) magnitude.insert(0, 1, '\0');
  return der(0x02, magnitude);
}
std::string rsa_spki_der(const json& jwk) {
  const auto n = *oidc::detail::base64url_decode_strict(jwk["n"].get<std::string>());
  const auto e = *oidc::detail::base64url_decode_strict(jwk["e"].get<std::string>());
  const std::string rsa_oid("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00", 13);
  return der(0x30, der(0x30, rsa_oid) + der(0x03, std::string(1, '\0') + der(0x30, der_integer(n) + der_integer(e))));
}
std::string pem(const std::string& spki) {
  const auto b = oidc::detail::base64_encode(spki);
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (std::size_t i = 0; i < b.size(); i += 64) out += b.substr(i, 64) + "\n";
  return out + "-----END PUBLIC KEY-----\n";
}

oidc::Jws signed_jws(const oidc::SigningKey& key, json header = json::object()) {
  return oidc::parse_jws(oidc::sign_compact_jws(key, std::move(header), {{"sub", "alice"}}), op);
}

errc verify_code(const oidc::Jws& jws, const oidc::KeySource& keys, const std::vector<JwsAlgorithm>& allowed,
                 const oidc::VerificationKey* hmac = nullptr) {
  return error_of([&] { oidc::verify_jws(jws, keys, allowed, op, hmac); }).code();
}

}  // namespace

TEST(VerifyJws, EveryAsymmetricAlgorithmVerifiesWithItsKey) {
  for (const auto alg : oidc::all_jws_algorithms) {
    if (oidc::is_symmetric(alg)) continue;
    const auto& key = oidc_testing::test_key(alg);
    const auto keys = source_of({key});
    const auto jws = signed_jws(key);
    EXPECT_NO_THROW(oidc::verify_jws(jws, keys, {alg}, op)) << oidc::to_string(alg);
    auto tampered = jws;
    tampered.signing_input.back() ^= 1;
    EXPECT_EQ(verify_code(tampered, keys, {alg}), errc::signature_invalid) << oidc::to_string(alg);
    auto cut = jws;
    cut.signature.pop_back();
    EXPECT_EQ(verify_code(cut, keys, {alg}), errc::signature_invalid) << oidc::to_string(alg);
  }
}

TEST(VerifyJws, HmacOnlyWithTheCallersSecret) {
  const oidc::StaticKeySource none(oidc::JwkSet{});
  for (const auto alg : {JwsAlgorithm::HS256, JwsAlgorithm::HS384, JwsAlgorithm::HS512}) {
    const auto key = oidc::SigningKey::from_secret(oidc::Secret("a-client-secret-of-32-bytes-or-more!"), alg);
    const auto jws = signed_jws(key);
    const auto secret = key.verification_key();
    EXPECT_NO_THROW(oidc::verify_jws(jws, none, {alg}, op, &secret)) << oidc::to_string(alg);
    EXPECT_EQ(verify_code(jws, none, {alg}), errc::algorithm_rejected);  // no secret: never from the set
    const auto other = oidc::VerificationKey::from_secret(oidc::Secret("another-secret-another-secret-xx"));
    EXPECT_EQ(verify_code(jws, none, {alg}, &other), errc::signature_invalid);
  }
}

TEST(VerifyJws, AlgorithmOutsideTheAllowListIsRejectedBeforeAnyKeyIsUsed) {
  const auto& rs = oidc_testing::test_key(JwsAlgorithm::RS256);
  const auto keys = source_of({rs});
  const auto jws = signed_jws(rs);
  const auto e = error_of([&] { oidc::verify_jws(jws, keys, {JwsAlgorithm::ES256}, op); });
  EXPECT_EQ(e.code(), errc::algorithm_rejected);
  EXPECT_NE(std::string(e.what()).find("ES256"), std::string::npos) << e.what();
  EXPECT_EQ(verify_code(jws, keys, {}), errc::algorithm_rejected);
}

TEST(VerifyJws, KeyNotFoundSaysWhy) {
  const auto& rs = oidc_testing::test_key(JwsAlgorithm::RS256, "rsa-1");
  const auto keys = source_of({rs});
  EXPECT_EQ(verify_code(signed_jws(oidc_testing::test_key(JwsAlgorithm::RS256, "other")), keys, {JwsAlgorithm::RS256}),
            errc::key_not_found);
  // The kid exists but is an RSA key, the token says ES256.
  const auto es = oidc_testing::test_key(JwsAlgorithm::ES256, "rsa-1");
  const auto wrong_type = error_of([&] { oidc::verify_jws(signed_jws(es), keys, {JwsAlgorithm::ES256}, op); });
  EXPECT_EQ(wrong_type.code(), errc::key_not_found);
  EXPECT_NE(std::string(wrong_type.what()).find("does not accept"), std::string::npos) << wrong_type.what();
  // A key of the set that was refused: its reason is given.
  auto doc = oidc_testing::jwks_json({rs});
  doc["keys"].push_back({{"kty", "RSA"}, {"kid", "enc-key"}, {"use", "enc"}, {"n", "AQAB"}, {"e", "AQAB"}});
  const oidc::StaticKeySource with_refusal(oidc::JwkSet::parse(doc.dump()));
  const auto refused = error_of([&] {
    oidc::verify_jws(signed_jws(oidc_testing::test_key(JwsAlgorithm::RS256, "enc-key")), with_refusal,
                     {JwsAlgorithm::RS256}, op);
  });
  EXPECT_EQ(refused.code(), errc::key_not_found);
  EXPECT_NE(std::string(refused.what()).find("refused"), std::string::npos) << refused.what();
  // No kid: any key accepting the algorithm is tried.
  auto no_kid = oidc::parse_jws(compact(R"({"alg":"RS256"})"), op);
  no_kid.signature = rs.sign(no_kid.signing_input);
  EXPECT_NO_THROW(oidc::verify_jws(no_kid, keys, {JwsAlgorithm::RS256}, op));
  EXPECT_EQ(verify_code(no_kid, oidc::StaticKeySource(oidc::JwkSet{}), {JwsAlgorithm::RS256}), errc::key_not_found);
}

// The classic key confusion: the attacker signs HS256 with the provider's public key (as PEM, DER
// or JWK text) as the HMAC secret. The set holds only public keys, so HS256 has no key at all.
TEST(VerifyJws, PublicKeyAsHmacSecretIsRejected) {
  const auto& rs = oidc_testing::test_key(JwsAlgorithm::RS256, "k1");
  const auto keys = source_of({rs});
  const auto jwk = rs.public_jwk();
  const auto spki = rsa_spki_der(jwk);
  // The hand-made PEM is the provider's key indeed: OpenSSL reads it and it verifies RS256.
  const auto from_pem = oidc::VerificationKey::from_pem(pem(spki));
  const auto genuine = signed_jws(rs);
  ASSERT_TRUE(from_pem.verify(JwsAlgorithm::RS256, genuine.signing_input, genuine.signature));
  const std::vector<std::string> secrets = {pem(spki), spki, jwk.dump(), jwk["n"].get<std::string>()};
  for (const auto& bytes : secrets) {
    const auto forged = oidc::SigningKey::from_secret(oidc::Secret(bytes), JwsAlgorithm::HS256, "k1");
    const auto jws = signed_jws(forged);
    EXPECT_EQ(verify_code(jws, keys, {JwsAlgorithm::RS256}), errc::algorithm_rejected);
    EXPECT_EQ(verify_code(jws, keys, {JwsAlgorithm::RS256, JwsAlgorithm::HS256}), errc::algorithm_rejected);
  }
}
#endif  // OIDC_HAVE_TEST_KEYS
