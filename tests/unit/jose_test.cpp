// JWS keys and signatures (include/oidc/jose.hpp, src/jose.cpp): every algorithm, the
// key-confusion matrix, RFC test vectors, and each JWK / PEM validation rule.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/error.hpp"
#include "oidc/jose.hpp"
#include "error_of.hpp"
#include "test_keys.hpp"

namespace {

using oidc::JwsAlgorithm;
using oidc::KeyType;
using oidc::SigningKey;
using oidc::VerificationKey;
using oidc::detail::base64url_decode_strict;
using oidc::detail::base64url_encode;
using oidc_testing::error_of;
using oidc_testing::test_key;
using json = nlohmann::json;

// PEM keys made once with the openssl command line (no test talks to OpenSSL directly).
constexpr const char* k_ec_trad = R"PEM(-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIKXB1DqzgGywHcpC6cSJKhWIbvPYB8kTbWoMSNqxtu8VoAoGCCqGSM49
AwEHoUQDQgAEbCkjneQXTlscAvqFwq6ctxzwVO7rsHqcWcTNIxm9USVXrJ/cHRDV
LlPfItfK7d5RE88frS32K/24XdW3iLjrcA==
-----END EC PRIVATE KEY-----
)PEM";
constexpr const char* k_ec_pub = R"PEM(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbCkjneQXTlscAvqFwq6ctxzwVO7r
sHqcWcTNIxm9USVXrJ/cHRDVLlPfItfK7d5RE88frS32K/24XdW3iLjrcA==
-----END PUBLIC KEY-----
)PEM";
constexpr const char* k_ec_cert = R"PEM(-----BEGIN CERTIFICATE-----
MIIBbzCCARWgAwIBAgIUdVAmzTnWzAv39Knk5nAHK1Jjb+QwCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAgFw0yNjEyMDExODI4MzBaGA8yMTI2MTEwNzE4MjgzMFow
DDEKMAgGA1UEAwwBdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABGwpI53kF05b
HAL6hcKunLcc8FTu67B6nFnEzSMZvVElV6yf3B0Q1S5T3yLXyu3eURPPH60t9iv9
uF3Vt4i463CjUzBRMB0GA1UdDgQWBBRGfpJdI7hAoPwoNiucUKY8D9TYSzAfBgNV
HSMEGDAWgBRGfpJdI7hAoPwoNiucUKY8D9TYSzAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIAL8hjORohNvOwds14zsz/1q7ZejGzVUVC5GmaNn5QO1
AiEAudqnbJXZMgCg8+YHwFH616icU6UxEV1texrp595X89k=
-----END CERTIFICATE-----
)PEM";
constexpr const char* k_rsa1024 = R"PEM(-----BEGIN PRIVATE KEY-----
MIICdQIBADANBgkqhkiG9w0BAQEFAASCAl8wggJbAgEAAoGBAJwRBfdOJevsoB2s
WoUOn5BDAxW1KZOFiwpA90htL+eb2HBeb1M57Q+6NnqzV1VV9c1SUvp9EByP87L5
eY8pkK7ptymke0Vb91pX0Ij/J64an6CEFYie0Tx9EjqVg2B6cDKkeZTnkZVtBfNx
6M2WBPVEHqqs8aSTzTWGBKHEQY2NAgMBAAECgYBC2WfczrSfofPTwgfkBqeCe7HO
kpMEhadQ9RL3Cw4B/1duioTU+XL50aGUXU2DWBa5pBG3Cerk0SRp/UJ8eClol5fX
UN+w/x4MVQVoFjXdiDqUkV1QFIqIbJ8scL3t1089x984KQlGxuE4epvfqhq64Vid
AQ/evriSf7bs4Y/sAQJBAM03A5uDl2OAC3u/2R+HdbeGmqsomXZeC/G2dtklnUWO
ST/PNWc0w0MnqZDdtp1ouX+YYcFULf2mOtkkgSrtFm0CQQDCsE8aMal1TRvDUUde
XilgLbLJzn+qXAR8srey7vTXYWQcr6AjL4R2+2dRbXxTDY97ru+bnJbrJr/MO7ec
pF+hAkAF9XX+WwjXU82Bj2WPm9BYPulY1Pn3zO1N3H2A+q2hamtIFg037PlKhulO
kpGN6o+QW+1ivr4DIoOM8JlrlKzVAkB83z7tSxsozJtZDKHdCkI5mTYKsHM8HqcW
ID8o+pF6L9JZf+ATkV/CPQAIv1O1pYX5S7wNsEMwcnskkMz1IIzhAkBpWBBJYLFE
rBkjF3KuEyrZQU9n2ZLN1sYAO+YZlrAvITrw0ToKzcGIxQU6GkMKYqsiuFrviM+C
kW2+0su9lhTs
-----END PRIVATE KEY-----
)PEM";
constexpr const char* k_ed_enc = R"PEM(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjCqSRXd9Zb2gICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEECoGc05zq/Lp1TgbARmiweEEQNEE
PDMakSbFnxu4mkVDT3+B1JQb3iDgAvdSY+uRYSvETGua1EGkFNgCbkC2YL2tHkkK
FXfex3++wlXqJ+QLFlM=
-----END ENCRYPTED PRIVATE KEY-----
)PEM";
constexpr const char* k_k1 = R"PEM(-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIGPLLYcjC0gx0Bqh28hpklrLJz4ilClcp7OBwBadqbaioAcGBSuBBAAK
oUQDQgAEjIQaYnDjD1ZFo7617i/sNiLUrJDIkpB+85Qok6YBQnuW5mGVA3VZ0rld
IantOZh/vso0bAsxHgteh3cwF6akZw==
-----END EC PRIVATE KEY-----
)PEM";
constexpr const char* k_rsa_trad = R"PEM(-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAtQVibexoeFNPKj012lW1EYv2uY+x/Lx+QPWKjUo+SO1PFtCF
IYzmUsS++g5++spSrx5UpqMRcvWiaume1r5XI+QvnxSKSjhJY5FnXaNtvqXitdN6
SP/yO+QZl+dEVsPg7AaUZRJlQ7zPirF2CJTu3BGUEUuiaW+g9qlexEzdbcbCZG6H
0wQjJP5oqDWYLxX7IijhI8plGjyuf3kFj4TJSThpM+BzaDXmjqhrpeemrT2CbcBk
kFPtJ33V9VAnESISYbXTrqBS/FozLzGyHxp+RJUY7RZAJsmkoPcbe4k7l0tMdcnL
Yd0T0fhcaWLdlPnJZf2JcSaHcb51j7XH+tBTUQIDAQABAoIBAA/qy/TjzMEyfMuM
sPzkfGob5zNPMf9fM7An5xRKwEn5U/MASDSNsdL6qdr4W1dXYwiISjk82ClGSrnL
68ObiQixj95qbUk0GdU/e9n9UjEUCmiikntzcKwDf/HzdqGKfRnumi3TqEPZ3ltR
BL1McJRj7KPOBWyapt9e6o5S6UWLBphmRCO9N6DLyEy3rLGKI7lDQyC7y62cVHiL
BYYOVUbDztCxi3dVeFV63upfbJaXgGb+NWYrw+jTmFJvzx7hszCm3HR4aD1B2HBV
dGAWEfL47Dlf83QpI2BxkV69Th2+gHGX4pn4XlAzGCq3DFfpx4wu1B6QTo2NiIho
BDvzL+ECgYEA6/FAeNnUN9+tKjXPFbzLqjpkl8fU27P+XOkT+PxbDZXP4g0zkVwn
NURAGTGYiILHxVcwXpVyc+3fDv+ONFYfNigAjoMnpZNAcsEdE8k7dcy0TvNJwURO
pKbxEcFOJcOY/FVdNW6/oveNhJcQ5K4PO/Sd9OeoLUHf5OJVF7PdzqMCgYEAxGjl
AG6GP3feSRYeTXByXCBv+3gziL6d8eOn1H5hBrLi49OdxZOoHiVsReazRAs9oavj
dq5rgn+JKnA+RA4Ei5DOZQHLCY+COHSSN7yWzFxiqS2AG+dAf9je+53bvkPp1aGI
8vrNOnQAkJqPBdxWfzMD4DuVswLomeP3DL1ReXsCgYBMMYCMhmvOD2Gwe+gAMRPk
SS8rBNFskdfW0T4t7fDJllOnwHOiwYu32+6HNEj57KHuzJVGNiTb4zlhco3NwPIb
Xxeu7hPjmIX7iPmG5jlZdV3VESQEUbbD3VWEUlSWRXAmLLsJAlbIngEJjG9cKgmp
ZvmLmTPqSZewJpcsLF242QKBgCWUGDSD8QWVrp73L2cLm6XKwwIvFlUUe227a/H5
GCFK+qQyad5SiPjzmgqpwCTFrc4P8B5V8tXuBtVq0k79C5uUYhjrReiXX4fjrdIi
MAv7pRjPTtKH5UxQtyEXK+L0ZXntRSGQININPcps9+5cIOSHYzd0zwiIBu7isfLr
CfqfAoGBAJRxjRnod6GlRnefNVhReaKwmmS3StWyLnxwhcsiryuj8odHcoHz8EMc
hhsprOXl+avt8vlajvLjK53gLLAa0EGtC4DvefPuSpigu/gZ7FnW3deil+36PUN6
rfoeTu2tDQwTjBzYmzDkVIesXY3WOqBiZefKfZA2Fud1/3+df91r
-----END RSA PRIVATE KEY-----
)PEM";

constexpr const char* kInput = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9";

std::string b64(const std::string& s) { return base64url_encode(s); }
std::string unb64(const std::string& s) { return base64url_decode_strict(s).value(); }

// The matrix jose.hpp documents, written out independently of the implementation.
bool expected_accepts(KeyType type, JwsAlgorithm key_alg, JwsAlgorithm alg) {
  const std::string a(oidc::to_string(alg));
  switch (type) {
    case KeyType::rsa: return a[0] == 'R' || a[0] == 'P';
    case KeyType::ec: return alg == key_alg;  // the key's own curve's ES*
    case KeyType::okp: return alg == JwsAlgorithm::EdDSA;
    case KeyType::oct: return a[0] == 'H';
  }
  return false;
}

KeyType type_of(JwsAlgorithm a) {
  const std::string s(oidc::to_string(a));
  if (s[0] == 'R' || s[0] == 'P') return KeyType::rsa;
  if (s[0] == 'E' && s[1] == 'S') return KeyType::ec;
  if (s[0] == 'E') return KeyType::okp;
  return KeyType::oct;
}

// The key's public JWK without "alg", so only its type and curve restrict it.
VerificationKey verifier_without_alg(JwsAlgorithm alg) {
  const auto& k = test_key(alg);
  if (oidc::is_symmetric(alg)) return VerificationKey::from_secret(oidc::Secret("a shared secret"));
  json jwk = k.public_jwk();
  jwk.erase("alg");
  return VerificationKey::from_jwk(jwk);
}

class EveryAlgorithm : public ::testing::TestWithParam<JwsAlgorithm> {};

TEST_P(EveryAlgorithm, SignsAndVerifies) {
  const auto& key = test_key(GetParam());
  EXPECT_EQ(key.algorithm(), GetParam());
  const std::string sig = key.sign(kInput);
  const VerificationKey v = key.verification_key();
  EXPECT_TRUE(v.verify(GetParam(), kInput, sig));
  EXPECT_EQ(v.kid(), "k1");
  EXPECT_EQ(v.type(), type_of(GetParam()));
}

TEST_P(EveryAlgorithm, ThroughThePublicJwk) {
  const auto& key = test_key(GetParam());
  if (oidc::is_symmetric(GetParam())) {
    EXPECT_EQ(error_of([&] { (void)key.public_jwk(); }).code(), oidc::errc::config);
    EXPECT_EQ(error_of([&] { (void)key.private_pem(); }).code(), oidc::errc::config);
    return;
  }
  const json jwk = key.public_jwk();
  EXPECT_EQ(jwk.at("alg"), std::string(oidc::to_string(GetParam())));
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid"), "k1");
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) EXPECT_FALSE(jwk.contains(m)) << m;
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_EQ(v.alg(), GetParam());
  EXPECT_TRUE(v.verify(GetParam(), kInput, key.sign(kInput)));
}

TEST_P(EveryAlgorithm, TamperedSignatureOrInputFails) {
  const auto& key = test_key(GetParam());
  const VerificationKey v = key.verification_key();
  std::string sig = key.sign(kInput);
  std::string input = kInput;
  input.back() ^= 1;
  EXPECT_FALSE(v.verify(GetParam(), input, sig));
  EXPECT_FALSE(v.verify(GetParam(), "", sig));
  std::string bad = sig;
  bad[bad.size() / 2] ^= 0x01;
  EXPECT_FALSE(v.verify(GetParam(), kInput, bad));
  EXPECT_FALSE(v.verify(GetParam(), kInput, sig.substr(0, sig.size() - 1)));
  EXPECT_FALSE(v.verify(GetParam(), kInput, sig + '\0'));
  EXPECT_FALSE(v.verify(GetParam(), kInput, ""));
  EXPECT_FALSE(v.verify(GetParam(), kInput, std::string(sig.size(), '\0')));
}

TEST_P(EveryAlgorithm, AnotherKeyOfTheSameKindFails) {
  const std::string sig = test_key(GetParam(), "a").sign(kInput);
  EXPECT_FALSE(test_key(GetParam(), "b").verification_key().verify(GetParam(), kInput, sig));
}

TEST_P(EveryAlgorithm, AcceptsMatrix) {
  const VerificationKey v = verifier_without_alg(GetParam());
  const VerificationKey pinned = test_key(GetParam()).verification_key();
  for (const auto other : oidc::all_jws_algorithms) {
    EXPECT_EQ(v.accepts(other), expected_accepts(type_of(GetParam()), GetParam(), other))
        << oidc::to_string(GetParam()) << " key, " << oidc::to_string(other);
    EXPECT_EQ(pinned.accepts(other), other == GetParam())
        << oidc::to_string(GetParam()) << " pinned key, " << oidc::to_string(other);
    // A signature made under another algorithm never verifies, whatever key made it.
    if (other != GetParam()) {
      const std::string sig = test_key(other).sign(kInput);
      EXPECT_FALSE(v.verify(other, kInput, sig) && !expected_accepts(type_of(GetParam()), GetParam(), other));
    }
  }
}

TEST_P(EveryAlgorithm, GeneratedKeysDiffer) {
  if (oidc::is_symmetric(GetParam())) return;
  json a = test_key(GetParam(), "a").public_jwk(), b = test_key(GetParam(), "b").public_jwk();
  a.erase("kid");
  b.erase("kid");
  EXPECT_NE(a, b);
}

TEST_P(EveryAlgorithm, PrivatePemRoundTrip) {
  if (oidc::is_symmetric(GetParam())) return;
  const auto& key = test_key(GetParam());
  const oidc::Secret pem = key.private_pem();
  EXPECT_EQ(pem.expose().rfind("-----BEGIN PRIVATE KEY-----", 0), 0U);
  const SigningKey back = SigningKey::from_pem(pem, "k2", GetParam());
  EXPECT_EQ(back.algorithm(), GetParam());
  EXPECT_EQ(back.kid(), "k2");
  EXPECT_TRUE(key.verification_key().verify(GetParam(), kInput, back.sign(kInput)));
  json a = key.public_jwk(), b = back.public_jwk();
  a.erase("kid");
  b.erase("kid");
  EXPECT_EQ(a, b);
}

TEST_P(EveryAlgorithm, CompactJwsHasThreeParts) {
  const auto& key = test_key(GetParam());
  const std::string jws = oidc::sign_compact_jws(key, json::object(), json{{"sub", "alice"}});
  const auto dot1 = jws.find('.');
  const auto dot2 = jws.rfind('.');
  ASSERT_NE(dot1, dot2);
  const json header = json::parse(unb64(jws.substr(0, dot1)));
  EXPECT_EQ(header.at("alg"), std::string(oidc::to_string(GetParam())));
  EXPECT_EQ(header.at("kid"), "k1");
  EXPECT_TRUE(key.verification_key().verify(GetParam(), jws.substr(0, dot2), unb64(jws.substr(dot2 + 1))));
}

INSTANTIATE_TEST_SUITE_P(Jose, EveryAlgorithm, ::testing::ValuesIn(oidc::all_jws_algorithms),
                         [](const auto& param_info) { return std::string(oidc::to_string(param_info.param)); });

TEST(Jose, SignatureSizes) {
  EXPECT_EQ(test_key(JwsAlgorithm::RS256).sign(kInput).size(), 256U);
  EXPECT_EQ(test_key(JwsAlgorithm::PS512).sign(kInput).size(), 256U);
  EXPECT_EQ(test_key(JwsAlgorithm::ES256).sign(kInput).size(), 64U);
  EXPECT_EQ(test_key(JwsAlgorithm::ES384).sign(kInput).size(), 96U);
  EXPECT_EQ(test_key(JwsAlgorithm::ES512).sign(kInput).size(), 132U);
  EXPECT_EQ(test_key(JwsAlgorithm::EdDSA).sign(kInput).size(), 64U);
  EXPECT_EQ(test_key(JwsAlgorithm::HS256).sign(kInput).size(), 32U);
  EXPECT_EQ(test_key(JwsAlgorithm::HS384).sign(kInput).size(), 48U);
  EXPECT_EQ(test_key(JwsAlgorithm::HS512).sign(kInput).size(), 64U);
}

// ECDSA signatures are random: many signatures, all r||s, all verify (catches a padding bug when
// r or s has leading zero bytes, which happens 1 in 128 signatures per coordinate).
TEST(Jose, EcdsaSignaturesArePaddedRAndS) {
  for (const auto alg : {JwsAlgorithm::ES256, JwsAlgorithm::ES384, JwsAlgorithm::ES512}) {
    const auto& key = test_key(alg);
    const auto v = key.verification_key();
    for (int i = 0; i < 300; ++i) {
      const std::string input = kInput + std::to_string(i);
      ASSERT_TRUE(v.verify(alg, input, key.sign(input))) << oidc::to_string(alg) << " " << i;
    }
  }
}

// Key confusion: the RSA public key's bytes as an HMAC secret must not verify an HS256 token.
TEST(Jose, RsaJwkNeverVerifiesHs256) {
  const json jwk = test_key(JwsAlgorithm::RS256).public_jwk();
  const auto v = VerificationKey::from_jwk(jwk);
  for (const std::string& secret : {jwk.dump(), unb64(jwk.at("n").get<std::string>()), std::string(jwk.at("n"))}) {
    const std::string mac = SigningKey::from_secret(secret, JwsAlgorithm::HS256).sign(kInput);
    EXPECT_FALSE(v.verify(JwsAlgorithm::HS256, kInput, mac));
  }
  EXPECT_FALSE(v.accepts(JwsAlgorithm::HS256));
}

TEST(Jose, HmacKeyNeverVerifiesRs256) {
  const auto v = VerificationKey::from_secret(oidc::Secret("a shared secret of some length"));
  EXPECT_EQ(v.type(), KeyType::oct);
  EXPECT_FALSE(v.accepts(JwsAlgorithm::RS256));
  EXPECT_FALSE(v.verify(JwsAlgorithm::RS256, kInput, test_key(JwsAlgorithm::RS256).sign(kInput)));
  EXPECT_TRUE(v.accepts(JwsAlgorithm::HS384));
}

TEST(Jose, JwkAlgPinsTheAlgorithm) {
  json jwk = test_key(JwsAlgorithm::RS256).public_jwk();
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_TRUE(v.accepts(JwsAlgorithm::RS256));
  EXPECT_FALSE(v.accepts(JwsAlgorithm::PS256));
  EXPECT_FALSE(v.accepts(JwsAlgorithm::RS384));
  // An RS256 key's PS256 signature (same RSA key) is refused by the pin.
  const auto ps = SigningKey::from_pem(test_key(JwsAlgorithm::RS256).private_pem(), "", JwsAlgorithm::PS256);
  EXPECT_FALSE(v.verify(JwsAlgorithm::PS256, kInput, ps.sign(kInput)));
  jwk.erase("alg");
  EXPECT_TRUE(VerificationKey::from_jwk(jwk).verify(JwsAlgorithm::PS256, kInput, ps.sign(kInput)));
}

TEST(Jose, PkcsAndPssAreNotInterchangeable) {
  const auto rs = test_key(JwsAlgorithm::RS256);
  const auto ps = SigningKey::from_pem(rs.private_pem(), "", JwsAlgorithm::PS256);
  json jwk = rs.public_jwk();
  jwk.erase("alg");
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_FALSE(v.verify(JwsAlgorithm::PS256, kInput, rs.sign(kInput)));
  EXPECT_FALSE(v.verify(JwsAlgorithm::RS256, kInput, ps.sign(kInput)));
  EXPECT_FALSE(v.verify(JwsAlgorithm::RS384, kInput, rs.sign(kInput)));
}

TEST(Jose, EcdsaDerOrWrongLengthIsFalse) {
  const auto& key = test_key(JwsAlgorithm::ES256);
  const auto v = key.verification_key();
  const std::string sig = key.sign(kInput);
  ASSERT_TRUE(v.verify(JwsAlgorithm::ES256, kInput, sig));
  // The DER form OpenSSL itself produces: 0x30 len 0x02 rlen r 0x02 slen s.
  auto integer = [](std::string n) {
    while (n.size() > 1 && n[0] == '\0' && !(static_cast<unsigned char>(n[1]) & 0x80)) n.erase(0, 1);
    if (static_cast<unsigned char>(n[0]) & 0x80) n.insert(0, 1, '\0');
    return std::string("\x02", 1) + static_cast<char>(n.size()) + n;
  };
  const std::string body = integer(sig.substr(0, 32)) + integer(sig.substr(32));
  const std::string der = std::string("\x30", 1) + static_cast<char>(body.size()) + body;
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, kInput, der));
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, kInput, sig.substr(0, 63)));
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, kInput, sig + sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, kInput, std::string(64, '\xff')));
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, kInput, std::string(64, '\0')));
  // r||s of P-256 given to a P-521 key: wrong length.
  EXPECT_FALSE(test_key(JwsAlgorithm::ES512).verification_key().verify(JwsAlgorithm::ES512, kInput, sig));
}

TEST(Jose, EmptyKeysVerifyNothing) {
  const VerificationKey v;
  for (const auto a : oidc::all_jws_algorithms) {
    EXPECT_FALSE(v.accepts(a));
    EXPECT_FALSE(v.verify(a, kInput, "x"));
  }
  const SigningKey s;
  EXPECT_EQ(error_of([&] { (void)s.sign(kInput); }).code(), oidc::errc::config);
}

TEST(Jose, ConcurrentVerification) {
  const auto& key = test_key(JwsAlgorithm::ES256);
  const auto v = key.verification_key();
  const std::string sig = key.sign(kInput);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) ok[t] += v.verify(JwsAlgorithm::ES256, kInput, sig) ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  for (int n : ok) EXPECT_EQ(n, 200);
}

// --- RFC test vectors -----------------------------------------------------------------------------

constexpr const char* kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

TEST(JoseVectors, Rfc7515A2Rs256) {
  const json jwk = {{"kty", "RSA"},
                    {"n",
                     "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4Ql"
                     "L-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUs"
                     "LA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoud"
                     "F8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
                    {"e", "AQAB"}};
  const std::string input = std::string("eyJhbGciOiJSUzI1NiJ9.") + kRfc7515Payload;
  const std::string sig = unb64(
      "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CU"
      "Ar7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_d"
      "O--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0ig"
      "cN_IoypGlUPQGe77Rw");
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_TRUE(v.verify(JwsAlgorithm::RS256, input, sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::RS384, input, sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::PS256, input, sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::RS256, input + "x", sig));
}

TEST(JoseVectors, Rfc7515A3Es256) {
  const json jwk = {{"kty", "EC"},
                    {"crv", "P-256"},
                    {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                    {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
  const std::string input = std::string("eyJhbGciOiJFUzI1NiJ9.") + kRfc7515Payload;
  const std::string sig =
      unb64("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_EQ(v.type(), KeyType::ec);
  EXPECT_TRUE(v.verify(JwsAlgorithm::ES256, input, sig));
  EXPECT_FALSE(v.accepts(JwsAlgorithm::ES384));
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES384, input, sig));
  std::string tampered = sig;
  tampered.back() ^= 1;
  EXPECT_FALSE(v.verify(JwsAlgorithm::ES256, input, tampered));
}

TEST(JoseVectors, Rfc8037A4Ed25519) {
  const json jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string sig =
      unb64("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  const auto v = VerificationKey::from_jwk(jwk);
  EXPECT_EQ(v.type(), KeyType::okp);
  EXPECT_TRUE(v.verify(JwsAlgorithm::EdDSA, input, sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::EdDSA, input + ".", sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::EdDSA, input, sig.substr(0, 63)));
}

// RFC 7515 A.1: HS256 with the RFC's oct key.
TEST(JoseVectors, Rfc7515A1Hs256) {
  const json jwk = {
      {"kty", "oct"},
      {"k", "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}};
  const std::string input = std::string("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.") + kRfc7515Payload;
  const std::string sig = unb64("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(error_of([&] { (void)VerificationKey::from_jwk(jwk); }).code(), oidc::errc::parse);
  const auto v = VerificationKey::from_jwk(jwk, "JWK", true);
  EXPECT_EQ(v.type(), KeyType::oct);
  EXPECT_TRUE(v.verify(JwsAlgorithm::HS256, input, sig));
  EXPECT_FALSE(v.verify(JwsAlgorithm::HS384, input, sig));
  EXPECT_EQ(SigningKey::from_secret(unb64(jwk.at("k")), JwsAlgorithm::HS256).sign(input), sig);
}

TEST(Jose, JwsHash) {
  // SHA-256("abc"), SHA-384("abc"), SHA-512("abc") prefixes (FIPS 180-2 examples).
  auto hex = [](const std::string& s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) out += {d[c >> 4], d[c & 15]};
    return out;
  };
  EXPECT_EQ(hex(oidc::jws_hash(JwsAlgorithm::RS256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(oidc::jws_hash(JwsAlgorithm::ES384, "abc")).substr(0, 16), "cb00753f45a35e8b");
  EXPECT_EQ(hex(oidc::jws_hash(JwsAlgorithm::HS512, "abc")).substr(0, 16), "ddaf35a193617aba");
  EXPECT_EQ(oidc::jws_hash(JwsAlgorithm::EdDSA, "abc"), oidc::jws_hash(JwsAlgorithm::PS512, "abc"));
  EXPECT_EQ(oidc::jws_hash(JwsAlgorithm::PS256, "").size(), 32U);
}

// --- from_jwk: each rule ----------------------------------------------------------------------------

json rsa_jwk() {
  json j = test_key(JwsAlgorithm::RS256).public_jwk();
  j.erase("alg");
  return j;
}
json ec_jwk() { return test_key(JwsAlgorithm::ES256).public_jwk(); }
json okp_jwk() { return test_key(JwsAlgorithm::EdDSA).public_jwk(); }

std::string refusal(const json& jwk, bool allow_symmetric = false) {
  const auto e = error_of([&] { (void)VerificationKey::from_jwk(jwk, "test JWK", allow_symmetric); });
  EXPECT_EQ(e.code(), oidc::errc::parse) << e.what();
  EXPECT_EQ(e.details().operation, "test JWK");
  return e.details().detail;
}

#define EXPECT_REFUSED(jwk, fragment)                                          \
  do {                                                                         \
    const std::string why_ = refusal(jwk);                                     \
    EXPECT_NE(why_.find(fragment), std::string::npos) << "reason: " << why_;   \
  } while (0)

TEST(JoseJwk, AcceptsEachKeyType) {
  EXPECT_EQ(VerificationKey::from_jwk(rsa_jwk()).type(), KeyType::rsa);
  EXPECT_EQ(VerificationKey::from_jwk(ec_jwk()).type(), KeyType::ec);
  EXPECT_EQ(VerificationKey::from_jwk(okp_jwk()).type(), KeyType::okp);
  json j = rsa_jwk();
  j["key_ops"] = {"verify", "encrypt"};
  j["x5t"] = "ignored";
  EXPECT_EQ(VerificationKey::from_jwk(j).kid(), "k1");
}

TEST(JoseJwk, NotAnObject) {
  EXPECT_REFUSED(json::array(), "not a JSON object");
  EXPECT_REFUSED(json("RSA"), "not a JSON object");
  EXPECT_REFUSED(json(nullptr), "not a JSON object");
}

TEST(JoseJwk, Kty) {
  json j = rsa_jwk();
  j.erase("kty");
  EXPECT_REFUSED(j, "\"kty\" is missing");
  j["kty"] = "rsa";
  EXPECT_REFUSED(j, "is not RSA, EC, OKP or oct");
  j["kty"] = 1;
  EXPECT_REFUSED(j, "\"kty\" is not a string");
}

TEST(JoseJwk, SmallOrHugeRsa) {
  json j = rsa_jwk();
  j["n"] = b64(std::string(128, '\xff'));  // 1024 bits
  EXPECT_REFUSED(j, "fewer than 2048");
  j["n"] = b64(std::string(255, '\xff'));  // 2040 bits
  EXPECT_REFUSED(j, "fewer than 2048");
  j["n"] = b64(std::string(2049, '\xff'));  // over 16384 bits
  EXPECT_REFUSED(j, "more than 16384 bits");
  j["n"] = b64(std::string(4000, '\xff'));
  EXPECT_REFUSED(j, "out of range");
  j["n"] = b64(std::string(255, '\xff') + '\xfe');  // even
  EXPECT_REFUSED(j, "even");
  j["n"] = "";
  EXPECT_REFUSED(j, "out of range");
}

TEST(JoseJwk, RsaExponent) {
  json j = rsa_jwk();
  j["e"] = "AQ";  // 1
  EXPECT_REFUSED(j, "exponent is 1 or even");
  j["e"] = "AQAA";  // 65536
  EXPECT_REFUSED(j, "exponent is 1 or even");
  j["e"] = "Ag";  // 2
  EXPECT_REFUSED(j, "exponent is 1 or even");
  j["e"] = b64(std::string(40, '\x01'));
  EXPECT_REFUSED(j, "out of range");
  j["e"] = "Aw";  // 3 is a valid (if unusual) exponent
  EXPECT_EQ(VerificationKey::from_jwk(j).type(), KeyType::rsa);
}

TEST(JoseJwk, EcCurveAndCoordinates) {
  json j = ec_jwk();
  j["crv"] = "P-384";
  EXPECT_REFUSED(j, "EC coordinates are not 48 bytes");
  j["crv"] = "secp256k1";
  EXPECT_REFUSED(j, "is not P-256, P-384 or P-521");
  j["crv"] = "Ed25519";
  EXPECT_REFUSED(j, "is not P-256, P-384 or P-521");
  j = ec_jwk();
  j.erase("crv");
  EXPECT_REFUSED(j, "\"crv\" is missing");
  j = ec_jwk();
  const std::string x = unb64(j.at("x"));
  j["x"] = b64(x.substr(1));
  EXPECT_REFUSED(j, "not 32 bytes");
  j["x"] = b64('\0' + x);
  EXPECT_REFUSED(j, "not 32 bytes");
  j = ec_jwk();
  j.erase("y");  // compressed form is not JOSE
  EXPECT_REFUSED(j, "\"y\" is missing");
}

TEST(JoseJwk, EcPointOffTheCurve) {
  json j = ec_jwk();
  std::string y = unb64(j.at("y"));
  y.back() ^= 1;
  j["y"] = b64(y);
  EXPECT_REFUSED(j, "not on the curve");
  j["x"] = b64(std::string(32, '\0'));
  j["y"] = b64(std::string(32, '\0'));
  EXPECT_REFUSED(j, "not on the curve");
  // The RFC 7515 A.3 point with x and y swapped.
  const json swapped = {{"kty", "EC"},
                        {"crv", "P-256"},
                        {"y", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                        {"x", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
  EXPECT_REFUSED(swapped, "not on the curve");
}

TEST(JoseJwk, Okp) {
  json j = okp_jwk();
  j["crv"] = "Ed448";
  EXPECT_REFUSED(j, "is not Ed25519");
  j["crv"] = "X25519";
  EXPECT_REFUSED(j, "is not Ed25519");
  j = okp_jwk();
  j["x"] = b64(std::string(31, 'a'));
  EXPECT_REFUSED(j, "not 32 bytes");
}

TEST(JoseJwk, UseAndKeyOps) {
  json j = rsa_jwk();
  j["use"] = "enc";
  EXPECT_REFUSED(j, "\"use\" is \"enc\"");
  j["use"] = 1;
  EXPECT_REFUSED(j, "\"use\" is not a string");
  j = rsa_jwk();
  j["key_ops"] = {"sign"};
  EXPECT_REFUSED(j, "does not contain \"verify\"");
  j["key_ops"] = json::array();
  EXPECT_REFUSED(j, "does not contain \"verify\"");
  j["key_ops"] = "verify";
  EXPECT_REFUSED(j, "\"key_ops\" is not an array");
  j["key_ops"] = {"verify", 1};
  EXPECT_REFUSED(j, "non-string");
}

TEST(JoseJwk, Alg) {
  json j = rsa_jwk();
  j["alg"] = "none";
  EXPECT_REFUSED(j, "not a supported JWS algorithm");
  j["alg"] = "RSA-OAEP";
  EXPECT_REFUSED(j, "not a supported JWS algorithm");
  j["alg"] = "rs256";
  EXPECT_REFUSED(j, "not a supported JWS algorithm");
  j["alg"] = "ES256";
  EXPECT_REFUSED(j, "does not fit");
  j["alg"] = "HS256";
  EXPECT_REFUSED(j, "does not fit");
  j["alg"] = 256;
  EXPECT_REFUSED(j, "\"alg\" is not a string");
  json e = ec_jwk();
  e["alg"] = "ES384";
  EXPECT_REFUSED(e, "does not fit");
  json o = okp_jwk();
  o["alg"] = "ES256";
  EXPECT_REFUSED(o, "does not fit");
  j["alg"] = "PS384";
  EXPECT_EQ(VerificationKey::from_jwk(j).alg(), JwsAlgorithm::PS384);
}

TEST(JoseJwk, PrivateMembers) {
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
    json j = rsa_jwk();
    j[m] = "AQAB";
    EXPECT_REFUSED(j, std::string("private member \"") + m + "\"");
  }
  json e = ec_jwk();
  e["d"] = "AQAB";
  EXPECT_REFUSED(e, "private member \"d\"");
  json o = okp_jwk();
  o["d"] = nullptr;
  EXPECT_REFUSED(o, "private member \"d\"");
}

TEST(JoseJwk, StrictBase64url) {
  json j = rsa_jwk();
  const std::string n = j.at("n");
  j["n"] = n + "=";
  EXPECT_REFUSED(j, "\"n\" is not unpadded base64url");
  std::string plus = n;
  for (auto& c : plus) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (plus != n) {
    j["n"] = plus;
    EXPECT_REFUSED(j, "\"n\" is not unpadded base64url");
  }
  j["n"] = "+" + n.substr(1);
  EXPECT_REFUSED(j, "\"n\" is not unpadded base64url");
  j["n"] = n.substr(0, 4) + " " + n.substr(4);
  EXPECT_REFUSED(j, "\"n\" is not unpadded base64url");
  j = rsa_jwk();
  j["e"] = "AQAB==";
  EXPECT_REFUSED(j, "\"e\" is not unpadded base64url");
  j["e"] = "AQAC";  // not canonical? "AQAC" is 0x01 0x00 0x02: canonical, even
  EXPECT_REFUSED(j, "1 or even");
  j["e"] = "AQB";  // non-canonical trailing bits
  EXPECT_REFUSED(j, "\"e\" is not unpadded base64url");
  json e = ec_jwk();
  e["x"] = std::string(e.at("x")) + "=";
  EXPECT_REFUSED(e, "\"x\" is not unpadded base64url");
}

TEST(JoseJwk, MemberTypes) {
  json j = rsa_jwk();
  j["n"] = 12345;
  EXPECT_REFUSED(j, "\"n\" is not a string");
  j = rsa_jwk();
  j["e"] = json::array({"AQAB"});
  EXPECT_REFUSED(j, "\"e\" is not a string");
  j = rsa_jwk();
  j["kid"] = 5;
  EXPECT_REFUSED(j, "\"kid\" is not a string");
  json e = ec_jwk();
  e["crv"] = json::object();
  EXPECT_REFUSED(e, "\"crv\" is not a string");
  e = ec_jwk();
  e["x"] = nullptr;
  EXPECT_REFUSED(e, "\"x\" is not a string");
  e = ec_jwk();
  e["y"] = 1.5;
  EXPECT_REFUSED(e, "\"y\" is not a string");
}

TEST(JoseJwk, OctOnlyWhenAllowed) {
  const json j = {{"kty", "oct"}, {"k", b64("0123456789abcdef0123456789abcdef")}, {"alg", "HS256"}};
  EXPECT_REFUSED(j, "symmetric (oct) key is not accepted");
  const auto v = VerificationKey::from_jwk(j, "JWK", true);
  EXPECT_TRUE(v.accepts(JwsAlgorithm::HS256));
  EXPECT_FALSE(v.accepts(JwsAlgorithm::HS512));
  json bad = j;
  bad["alg"] = "RS256";
  EXPECT_NE(refusal(bad, true).find("does not fit"), std::string::npos);
  bad = j;
  bad["k"] = "";
  EXPECT_NE(refusal(bad, true).find("empty"), std::string::npos);
  bad = j;
  bad["k"] = 7;
  EXPECT_NE(refusal(bad, true).find("\"k\" is not a string"), std::string::npos);
}

// Messages name the kid (made printable) but never quote key material.
TEST(JoseJwk, MessagesAreClean) {
  json j = ec_jwk();
  j["kid"] = "evil\r\nX-Injected: \x1b[2J";
  std::string y = unb64(j.at("y"));
  y.back() ^= 1;
  j["y"] = b64(y);
  const std::string why = refusal(j);
  EXPECT_EQ(why.find('\r'), std::string::npos);
  EXPECT_EQ(why.find('\x1b'), std::string::npos);
  EXPECT_NE(why.find("evil"), std::string::npos);
  EXPECT_EQ(why.find(std::string(j.at("y"))), std::string::npos);
  EXPECT_EQ(why.find(std::string(j.at("x"))), std::string::npos);
  json r = rsa_jwk();
  r["n"] = b64(std::string(128, '\xff'));
  EXPECT_EQ(refusal(r).find(std::string(r.at("n")).substr(0, 16)), std::string::npos);
}

// --- PEM ----------------------------------------------------------------------------------------------

TEST(JosePem, TraditionalEcAndRsa) {
  const auto ec = SigningKey::from_pem(oidc::Secret(k_ec_trad), "ec");
  EXPECT_EQ(ec.algorithm(), JwsAlgorithm::ES256);
  EXPECT_TRUE(ec.verification_key().verify(JwsAlgorithm::ES256, kInput, ec.sign(kInput)));
  const auto rsa = SigningKey::from_pem(oidc::Secret(k_rsa_trad));
  EXPECT_EQ(rsa.algorithm(), JwsAlgorithm::RS256);
  EXPECT_TRUE(rsa.verification_key().verify(JwsAlgorithm::RS256, kInput, rsa.sign(kInput)));
  const auto ps = SigningKey::from_pem(oidc::Secret(k_rsa_trad), "", JwsAlgorithm::PS384);
  EXPECT_TRUE(ps.verification_key().verify(JwsAlgorithm::PS384, kInput, ps.sign(kInput)));
}

TEST(JosePem, PublicKeyAndCertificate) {
  const auto signer = SigningKey::from_pem(oidc::Secret(k_ec_trad));
  const std::string sig = signer.sign(kInput);
  const auto spki = VerificationKey::from_pem(k_ec_pub, "pub");
  EXPECT_EQ(spki.kid(), "pub");
  EXPECT_EQ(spki.type(), KeyType::ec);
  EXPECT_TRUE(spki.verify(JwsAlgorithm::ES256, kInput, sig));
  EXPECT_FALSE(spki.accepts(JwsAlgorithm::ES384));
  const auto cert = VerificationKey::from_pem(k_ec_cert);
  EXPECT_TRUE(cert.verify(JwsAlgorithm::ES256, kInput, sig));
}

TEST(JosePem, Refusals) {
  auto signing = [](const char* pem, std::optional<JwsAlgorithm> alg = {}) {
    const auto e = error_of([&] { (void)SigningKey::from_pem(oidc::Secret(pem), "", alg); });
    EXPECT_EQ(e.code(), oidc::errc::config);
    return e.details().detail;
  };
  EXPECT_NE(signing(k_rsa1024).find("fewer than 2048"), std::string::npos);
  EXPECT_NE(signing(k_ed_enc).find("encrypted"), std::string::npos);
  EXPECT_NE(signing(k_k1).find("not on P-256"), std::string::npos);
  EXPECT_NE(signing(k_ec_trad, JwsAlgorithm::ES384).find("does not fit ES384"), std::string::npos);
  EXPECT_NE(signing(k_ec_trad, JwsAlgorithm::RS256).find("does not fit"), std::string::npos);
  EXPECT_NE(signing(k_rsa_trad, JwsAlgorithm::HS256).find("does not fit"), std::string::npos);
  EXPECT_NE(signing(k_ec_pub).find("not an unencrypted PEM private key"), std::string::npos);
  EXPECT_NE(signing("").find("not an unencrypted PEM private key"), std::string::npos);
  EXPECT_NE(signing("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").find("not an"),
            std::string::npos);
  const auto e = error_of([] { (void)VerificationKey::from_pem(k_rsa_trad); });
  EXPECT_EQ(e.code(), oidc::errc::config);
  EXPECT_EQ(error_of([] { (void)VerificationKey::from_pem("garbage"); }).code(), oidc::errc::config);
}

TEST(JoseSecret, FromSecret) {
  EXPECT_EQ(error_of([] { (void)SigningKey::from_secret(oidc::Secret("s"), JwsAlgorithm::RS256); }).code(),
            oidc::errc::config);
  EXPECT_EQ(error_of([] { (void)SigningKey::from_secret(oidc::Secret(""), JwsAlgorithm::HS256); }).code(),
            oidc::errc::config);
  EXPECT_EQ(error_of([] { (void)VerificationKey::from_secret(oidc::Secret("")); }).code(), oidc::errc::config);
  const auto k = SigningKey::from_secret(oidc::Secret("client-secret-value"), JwsAlgorithm::HS384, "kid");
  EXPECT_EQ(k.kid(), "kid");
  const auto v = VerificationKey::from_secret(oidc::Secret("client-secret-value"));
  EXPECT_TRUE(v.verify(JwsAlgorithm::HS384, kInput, k.sign(kInput)));
  EXPECT_FALSE(VerificationKey::from_secret(oidc::Secret("client-secret-valuE")).verify(JwsAlgorithm::HS384, kInput,
                                                                                        k.sign(kInput)));
  EXPECT_TRUE(k.verification_key().accepts(JwsAlgorithm::HS384));
  EXPECT_FALSE(k.verification_key().accepts(JwsAlgorithm::HS256));
}

}  // namespace
