// JwkSet (include/oidc/jwk_set.hpp): the document's shape, which keys are kept and why others
// are not, and selection by kid and algorithm.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "oidc/jwk_set.hpp"
#include "test_keys.hpp"

namespace {

using oidc::JwkSet;
using oidc::JwsAlgorithm;
using oidc_testing::error_of;
using oidc_testing::jwks_document;
using oidc_testing::jwks_json;
using oidc_testing::test_key;
using json = nlohmann::json;

std::string parse_error(const std::string& doc) {
  const auto e = error_of([&] { (void)JwkSet::parse(doc, "jwks test"); });
  EXPECT_EQ(e.code(), oidc::errc::parse) << e.what();
  EXPECT_EQ(e.details().operation, "jwks test");
  return e.details().detail;
}

TEST(JwkSet, ParsesEveryKeyType) {
  const auto set = JwkSet::parse(jwks_document({test_key(JwsAlgorithm::RS256, "r"), test_key(JwsAlgorithm::PS384, "p"),
                                               test_key(JwsAlgorithm::ES256, "e"), test_key(JwsAlgorithm::ES512, "e5"),
                                               test_key(JwsAlgorithm::EdDSA, "o")}));
  ASSERT_EQ(set.keys().size(), 5U);
  EXPECT_FALSE(set.empty());
  for (const char* kid : {"r", "p", "e", "e5", "o"}) EXPECT_TRUE(set.has_kid(kid)) << kid;
  EXPECT_FALSE(set.has_kid("nope"));
  const std::string sig = test_key(JwsAlgorithm::ES256, "e").sign("input");
  const auto found = set.select(std::string("e"), JwsAlgorithm::ES256);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_TRUE(found[0]->verify(JwsAlgorithm::ES256, "input", sig));
}

TEST(JwkSet, SelectByKidAndAlg) {
  const auto set = JwkSet::parse(jwks_document({test_key(JwsAlgorithm::RS256, "r"), test_key(JwsAlgorithm::ES256, "e")}));
  EXPECT_EQ(set.select(std::string("r"), JwsAlgorithm::RS256).size(), 1U);
  EXPECT_TRUE(set.select(std::string("r"), JwsAlgorithm::PS256).empty());  // the JWK's alg pins RS256
  EXPECT_TRUE(set.select(std::string("r"), JwsAlgorithm::HS256).empty());
  EXPECT_TRUE(set.select(std::string("e"), JwsAlgorithm::RS256).empty());
  EXPECT_TRUE(set.select(std::string("x"), JwsAlgorithm::RS256).empty());
  const auto no_kid = set.select(std::nullopt, JwsAlgorithm::ES256);
  ASSERT_EQ(no_kid.size(), 1U);
  EXPECT_EQ(no_kid[0]->kid(), "e");
}

TEST(JwkSet, KeysWithoutKid) {
  json doc = jwks_json({test_key(JwsAlgorithm::RS256, ""), test_key(JwsAlgorithm::RS512, "")});
  const auto set = JwkSet::parse(doc.dump());
  EXPECT_EQ(set.keys().size(), 2U);  // no kid: not ambiguous, the alg tells them apart
  EXPECT_EQ(set.select(std::nullopt, JwsAlgorithm::RS512).size(), 1U);
}

TEST(JwkSet, DocumentShape) {
  EXPECT_NE(parse_error("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error("\"keys\"").find("not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error("{}").find("no \"keys\" array"), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":{}})").find("no \"keys\" array"), std::string::npos);
  EXPECT_NE(parse_error(R"({"keys":null})").find("no \"keys\" array"), std::string::npos);
  EXPECT_NE(parse_error("").find("not accepted JSON"), std::string::npos);
  EXPECT_NE(parse_error("{\"keys\":[]").find("not accepted JSON"), std::string::npos);
  EXPECT_TRUE(JwkSet::parse(R"({"keys":[]})").empty());
}

TEST(JwkSet, TooManyKeys) {
  json doc = {{"keys", json::array()}};
  const json jwk = test_key(JwsAlgorithm::EdDSA).public_jwk();
  for (std::size_t i = 0; i < JwkSet::max_keys + 1; ++i) doc["keys"].push_back(jwk);
  EXPECT_NE(parse_error(doc.dump()).find("more than 100 keys"), std::string::npos);
  doc["keys"].erase(0);
  EXPECT_NO_THROW((void)JwkSet::parse(doc.dump()));
}

TEST(JwkSet, DuplicateMemberAndDeepNesting) {
  const std::string jwk = test_key(JwsAlgorithm::EdDSA).public_jwk().dump();
  EXPECT_NE(parse_error(R"({"keys":[],"keys":[)" + jwk + "]}").find("not accepted JSON"), std::string::npos);
  std::string dup = jwk;
  dup.insert(1, R"("kty":"RSA",)");
  EXPECT_NE(parse_error(R"({"keys":[)" + dup + "]}").find("not accepted JSON"), std::string::npos);
  const std::string deep = R"({"keys":[{"x5c":)" + std::string(5000, '[') + std::string(5000, ']') + "}]}";
  EXPECT_NE(parse_error(deep).find("not accepted JSON"), std::string::npos);
}

TEST(JwkSet, UnusableKeysAreLeftOutWithTheReason) {
  json doc = jwks_json({test_key(JwsAlgorithm::RS256, "good")});
  json enc = test_key(JwsAlgorithm::RS256, "enc").public_jwk();
  enc["use"] = "enc";
  enc.erase("alg");
  json small = test_key(JwsAlgorithm::RS256, "small").public_jwk();
  small["n"] = oidc::detail::base64url_encode(std::string(128, '\xff'));
  json unknown = {{"kty", "EC"}, {"crv", "secp256k1"}, {"x", "AA"}, {"y", "AA"}, {"kid", "k256"}};
  json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  json priv = test_key(JwsAlgorithm::EdDSA, "priv").public_jwk();
  priv["d"] = priv["x"];
  doc["keys"].push_back(enc);
  doc["keys"].push_back(small);
  doc["keys"].push_back(unknown);
  doc["keys"].push_back(oct);
  doc["keys"].push_back(priv);
  doc["keys"].push_back("not an object");
  doc["keys"].push_back(json{{"kty", "RSA"}, {"kid", 7}});
  const auto set = JwkSet::parse(doc.dump());
  ASSERT_EQ(set.keys().size(), 1U);
  EXPECT_EQ(set.keys()[0].kid(), "good");
  EXPECT_EQ(set.refusal("good"), nullptr);
  auto why = [&](const char* kid) {
    EXPECT_TRUE(set.has_kid(kid)) << kid;
    const std::string* r = set.refusal(kid);
    return r ? *r : std::string("(none)");
  };
  EXPECT_NE(why("enc").find("\"use\" is \"enc\""), std::string::npos) << why("enc");
  EXPECT_NE(why("small").find("fewer than 2048"), std::string::npos);
  EXPECT_NE(why("k256").find("not P-256"), std::string::npos);
  EXPECT_NE(why("hmac").find("symmetric"), std::string::npos);
  EXPECT_NE(why("priv").find("private member"), std::string::npos);
  EXPECT_TRUE(set.select(std::string("enc"), JwsAlgorithm::RS256).empty());
}

TEST(JwkSet, DuplicateKidKeepsNeither) {
  json doc = jwks_json({test_key(JwsAlgorithm::ES256, "same"), test_key(JwsAlgorithm::RS256, "same"),
                        test_key(JwsAlgorithm::EdDSA, "other")});
  const auto set = JwkSet::parse(doc.dump());
  ASSERT_EQ(set.keys().size(), 1U);
  EXPECT_EQ(set.keys()[0].kid(), "other");
  EXPECT_TRUE(set.has_kid("same"));
  ASSERT_NE(set.refusal("same"), nullptr);
  EXPECT_NE(set.refusal("same")->find("two keys"), std::string::npos);
  EXPECT_TRUE(set.select(std::string("same"), JwsAlgorithm::ES256).empty());
  EXPECT_TRUE(set.select(std::nullopt, JwsAlgorithm::ES256).empty());
}

TEST(JwkSet, ReasonsAreClean) {
  json doc = {{"keys", json::array()}};
  json k = test_key(JwsAlgorithm::RS256).public_jwk();
  k["kid"] = "a\r\nb\x1b[2J";
  k["use"] = "enc\r\n";
  doc["keys"].push_back(k);
  const auto set = JwkSet::parse(doc.dump());
  const std::string* why = set.refusal("a\r\nb\x1b[2J");
  ASSERT_NE(why, nullptr);
  EXPECT_EQ(why->find_first_of("\r\n\x1b"), std::string::npos) << *why;
}

TEST(JwkSet, StaticKeySource) {
  const oidc::StaticKeySource source(JwkSet::parse(jwks_document({test_key(JwsAlgorithm::ES384, "s")})));
  const auto set = source.keys_for(std::string("s"));
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->keys().size(), 1U);
  EXPECT_EQ(source.keys_for(std::nullopt), set);
}

}  // namespace
