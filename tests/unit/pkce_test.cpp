#include "oidc/pkce.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "error_of.hpp"

namespace {

// RFC 7636 Appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Crypto, Sha256MatchesTheFips180Vector) {
  const auto d = oidc::sha256("abc");
  std::string hex;
  for (const unsigned char c : d) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, RandomBytesAreFreshEachTime) {
  ASSERT_TRUE(oidc::crypto_available());
  EXPECT_EQ(oidc::random_bytes(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    const auto b = oidc::random_bytes(16);
    ASSERT_EQ(b.size(), 16u);
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 64u);
}

TEST(Pkce, S256MatchesRfc7636AppendixB) {
  const auto p = oidc::pkce_from_verifier(kVerifier);
  EXPECT_EQ(p.challenge, kChallenge);
  EXPECT_EQ(p.verifier.expose(), kVerifier);
  EXPECT_EQ(p.method, oidc::PkceMethod::S256);
  EXPECT_STREQ(oidc::to_string(p.method), "S256");
}

TEST(Pkce, PlainOnlyWhenAskedAndTheChallengeIsTheVerifier) {
  const auto p = oidc::pkce_from_verifier(kVerifier, oidc::PkceMethod::plain);
  EXPECT_EQ(p.challenge, kVerifier);
  EXPECT_STREQ(oidc::to_string(p.method), "plain");
}

TEST(Pkce, MadeVerifiersHave256BitsAndAreNeverRepeated) {
  std::set<std::string> verifiers;
  for (int i = 0; i < 64; ++i) {
    const auto p = oidc::make_pkce();
    EXPECT_EQ(p.verifier.expose().size(), 43u);
    EXPECT_TRUE(oidc::detail::is_pkce_verifier(p.verifier.expose()));
    EXPECT_EQ(p.challenge, oidc::pkce_from_verifier(p.verifier.expose()).challenge);
    EXPECT_EQ(p.challenge.size(), 43u);  // 32 bytes, unpadded base64url
    verifiers.insert(p.verifier.expose());
  }
  EXPECT_EQ(verifiers.size(), 64u);
}

TEST(Pkce, VerifiersOutsideRfc7636AreRefused) {
  const std::string ok(43, 'a');
  EXPECT_NO_THROW((void)oidc::pkce_from_verifier(ok));
  EXPECT_NO_THROW((void)oidc::pkce_from_verifier(std::string(128, '~')));
  for (const std::string& bad : {std::string(42, 'a'), std::string(129, 'a'), ok + "+", ok + "=", ok + " ",
                                ok + "/", ok + "\xC3\xA9", std::string()}) {
    const auto e = oidc_testing::error_of([&] { (void)oidc::pkce_from_verifier(bad); });
    EXPECT_EQ(e.code(), oidc::errc::config) << bad;
    if (!bad.empty()) {
      EXPECT_EQ(std::string(e.what()).find(bad), std::string::npos) << "the verifier must not be echoed";
    }
  }
}

}  // namespace
