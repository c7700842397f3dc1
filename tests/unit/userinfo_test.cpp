#include "oidc/client.hpp"
#include "oidc/userinfo.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"

using oidc::Client;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Token;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;

namespace {

constexpr const char* kUserinfoUrl = "https://auth.example.com/realms/core/protocol/openid-connect/userinfo";
constexpr const char* kAccessToken = "at-Zm9vYmFyYmF6cXV4";

struct UserinfoFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  Client client() const {
    ClientConfig c;
    c.userinfo_endpoint = kUserinfoUrl;
    c.client_id = "web";
    c.client_secret = "s3cret";
    c.transport = transport;
    c.clock = clock;
    c.extra_headers.set("X-Tenant", "core");
    return Client(c);
  }
  static Token token(std::string type = "Bearer") {
    Token t;
    t.access_token = kAccessToken;
    t.token_type = std::move(type);
    return t;
  }
  void push(int status, std::string body, std::string content_type = "application/json") {
    oidc::HttpResponse r;
    r.status = status;
    r.headers.set("Content-Type", content_type);
    r.body = std::move(body);
    transport->push(std::move(r));
  }
};

}  // namespace

TEST_F(UserinfoFixture, GetsWithBearerAndReadsClaims) {
  push(200, R"({"sub":"u-1","name":"Alice A.","email":"alice@example.com","email_verified":true,"locale":7})");
  const auto info = client().userinfo(token("bearer"));
  EXPECT_EQ(info.subject(), "u-1");
  EXPECT_EQ(info.name(), "Alice A.");
  EXPECT_EQ(info.email(), "alice@example.com");
  EXPECT_EQ(info.email_verified(), true);
  EXPECT_EQ(info.locale(), "");  // a number is not a string claim
  EXPECT_EQ(info.string_claim("locale"), std::nullopt);
  EXPECT_EQ(info.bool_claim("name"), std::nullopt);
  EXPECT_EQ(info.claims()["locale"], 7);
  EXPECT_FALSE(info.is_signed());

  const auto req = transport->last();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.url, kUserinfoUrl);
  EXPECT_EQ(req.headers.get("Authorization"), std::string("Bearer ") + kAccessToken);
  EXPECT_EQ(req.headers.get("Accept"), "application/json");
  EXPECT_EQ(req.headers.get("X-Tenant"), "core");
  EXPECT_TRUE(req.body.empty());
  EXPECT_EQ(req.timeout, std::chrono::milliseconds{30000});
}

TEST_F(UserinfoFixture, ExpectedSubjectMustMatch) {
  push(200, R"({"sub":"u-1"})");
  EXPECT_EQ(client().userinfo(token(), "u-1").subject(), "u-1");
  push(200, R"({"sub":"attacker"})");
  const auto e = error_of([&] { (void)client().userinfo(token(), "u-1"); });
  EXPECT_EQ(e.code(), errc::subject_mismatch);
  EXPECT_EQ(std::string(e.what()).find("attacker"), std::string::npos);
}

TEST_F(UserinfoFixture, SubIsRequiredNonEmptyStringOfBoundedLength) {
  push(200, R"({"name":"x"})");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::missing_claim);
  // detail::checked_subject, shared with ID tokens: every broken sub is missing_claim.
  for (const std::string& body : std::vector<std::string>{R"({"sub":""})", R"({"sub":42})", R"({"sub":null})", R"({"sub":["u"]})",
                                 "{\"sub\":\"" + std::string(256, 'a') + "\"}"}) {
    push(200, body);
    EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::missing_claim) << body;
  }
  push(200, "{\"sub\":\"" + std::string(255, 'a') + "\"}");
  EXPECT_EQ(client().userinfo(token()).subject().size(), 255u);
}

TEST_F(UserinfoFixture, OnlyBearerTokens) {
  for (const char* type : {"DPoP", "mac", "N_A"}) {
    const auto e = error_of([&] { (void)client().userinfo(token(type)); });
    EXPECT_EQ(e.code(), errc::config) << type;
  }
  Token empty;
  EXPECT_EQ(error_of([&] { (void)client().userinfo(empty); }).code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(UserinfoFixture, NoEndpointIsConfigError) {
  ClientConfig c;
  c.client_id = "web";
  c.transport = transport;
  const auto e = error_of([&] { (void)Client(c).userinfo(token()); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_NE(std::string(e.what()).find("userinfo_endpoint"), std::string::npos);
}

TEST_F(UserinfoFixture, InsecureEndpointRefused) {
  ClientConfig c;
  c.client_id = "web";
  c.userinfo_endpoint = "http://auth.example.com/userinfo";
  c.transport = transport;
  EXPECT_EQ(error_of([&] { (void)Client(c).userinfo(token()); }).code(), errc::insecure_url);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST(BearerChallenge, ParsesRfc6750Attributes) {
  const auto c = oidc::detail::parse_bearer_challenge(
      R"(Basic realm="x", error="wrong", Bearer realm="example", error="invalid_token", error_description="The access token \"expired\"", error_uri=https://e.example/doc)");
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.error, "invalid_token");
  EXPECT_EQ(c.error_description, "The access token \"expired\"");
  EXPECT_EQ(c.error_uri, "https://e.example/doc");

  const auto none = oidc::detail::parse_bearer_challenge(R"(Basic realm="x", error="invalid_token")");
  EXPECT_FALSE(none.found);
  EXPECT_EQ(none.error, "");

  const auto first = oidc::detail::parse_bearer_challenge(R"(bearer error=invalid_token, error=other)");
  EXPECT_EQ(first.error, "invalid_token");

  // Never fails, whatever the bytes: unterminated quotes, stray bytes, nothing after '='.
  for (const char* junk : {"Bearer error=\"abc", "Bearer ,,,, =, \"\" error=", "\x01\xff Bearer error\t=\tx",
                           "Bearer error=\"a\\", ""})
    (void)oidc::detail::parse_bearer_challenge(junk);
  EXPECT_EQ(oidc::detail::parse_bearer_challenge("Bearer error=\"abc").error, "abc");
  EXPECT_FALSE(oidc::detail::parse_bearer_challenge("Bearer " + std::string(9000, 'a')).found);  // over the bound
}

TEST_F(UserinfoFixture, WwwAuthenticateErrorIsOauthError) {
  oidc::HttpResponse r;
  r.status = 401;
  r.headers.set("WWW-Authenticate",
                std::string("Bearer error=\"invalid_token\", error_description=\"token ") + kAccessToken +
                    " expired \xc2\x9b" "31m\xff\"");
  transport->push(r);
  const auto e = error_of([&] { (void)client().userinfo(token()); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_token");
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_TRUE(oidc_testing::is_clean(e, {kAccessToken}));
}

TEST_F(UserinfoFixture, WwwAuthenticateWithoutErrorIsHttpStatusWithHeaderEscaped) {
  oidc::HttpResponse r;
  r.status = 401;
  r.headers.set("WWW-Authenticate", std::string("Bearer realm=\"core\xc2\x9b]0;pwned\xff\" ") + kAccessToken);
  r.body = "<html>Unauthorized</html>";
  transport->push(r);
  const auto e = error_of([&] { (void)client().userinfo(token()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_NE(std::string(e.what()).find("WWW-Authenticate: Bearer realm="), std::string::npos) << e.what();
  EXPECT_TRUE(oidc_testing::is_clean(e, {kAccessToken}));
}

TEST_F(UserinfoFixture, ErrorBodiesAndStatuses) {
  push(403, R"({"error":"insufficient_scope","error_description":"needs openid"})");
  auto e = error_of([&] { (void)client().userinfo(token()); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "insufficient_scope");
  push(500, "<html><body>Internal Server Error</body></html>", "text/html");
  e = error_of([&] { (void)client().userinfo(token()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 500);
  push(200, "<html>login page</html>", "text/html");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::parse);
}

TEST_F(UserinfoFixture, HostileJsonRefused) {
  push(200, R"({"sub":"u-1","sub":"u-2"})");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token(), "u-2"); }).code(), errc::parse);
  push(200, "{\"sub\":\"u\",\"x\":" + std::string(10000, '[') + std::string(10000, ']') + "}");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::parse);
  push(200, R"(["sub","u-1"])");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::parse);
  // The token echoed in a broken body never reaches the message.
  push(200, std::string("{\"sub\":\"u\", \"echo\":\"") + kAccessToken + "\x1b[2J\",");
  const auto e = error_of([&] { (void)client().userinfo(token()); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_TRUE(oidc_testing::is_clean(e, {kAccessToken}));
}

TEST_F(UserinfoFixture, EscapesInClaimsStayInClaimsNotInMessages) {
  push(200, "{\"sub\":\"u-1\",\"name\":\"\\u001b[31mred\"}");
  const auto info = client().userinfo(token());
  EXPECT_EQ(info.name(), "\x1b[31mred");  // data is returned as sent; printable() is the caller's
}

TEST_F(UserinfoFixture, SignedResponseNeedsVerifier) {
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2ln";
  push(200, jwt + "\n", "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::config);

  push(200, jwt, "application/jwt; charset=utf-8");
  std::string seen;
  const auto info = client().userinfo(token(), "u-1", std::nullopt, [&](std::string_view j, const std::string&) {
    seen = std::string(j);
    return nlohmann::json{{"sub", "u-1"}, {"email", "a@example.com"}};
  });
  EXPECT_EQ(seen, jwt);
  EXPECT_TRUE(info.is_signed());
  EXPECT_EQ(info.email(), "a@example.com");
  EXPECT_EQ(transport->last().headers.get("Accept"), "application/json, application/jwt");

  push(200, jwt, "application/jwt");
  EXPECT_EQ(error_of([&] {
              (void)client().userinfo(token(), "u-1", std::nullopt,
                                      [](std::string_view, const std::string&) { return nlohmann::json{{"sub", "u-9"}}; });
            }).code(),
            errc::subject_mismatch);

  push(200, "not a jwt at all", "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client().userinfo(token()); }).code(), errc::jwt_malformed);
}

namespace {

// A signed UserInfo response: a JWS by `key` with `claims`.
std::string signed_userinfo(const oidc::SigningKey& key, const nlohmann::json& claims) {
  return oidc::sign_compact_jws(key, {{"typ", "JWT"}}, claims);
}

}  // namespace

TEST_F(UserinfoFixture, SignedResponseVerifiedWithTheClientsKeys) {
  const auto key = oidc::SigningKey::generate(oidc::JwsAlgorithm::ES256, "op-key");
  ClientConfig c;
  c.issuer = "https://auth.example.com/realms/core";
  c.userinfo_endpoint = kUserinfoUrl;
  c.client_id = "web";
  c.transport = transport;
  c.clock = clock;
  c.userinfo_signing_alg_values_supported = {"ES256", "HS256", "none"};
  c.keys = std::make_shared<oidc::StaticKeySource>(oidc::JwkSet({key.verification_key()}));
  const Client client(c);

  push(200, signed_userinfo(key, {{"sub", "u-1"}, {"iss", c.issuer}, {"aud", "web"}, {"email", "a@example.com"}}),
       "application/jwt");
  const auto info = client.userinfo(token(), "u-1");
  EXPECT_TRUE(info.is_signed());
  EXPECT_EQ(info.email(), "a@example.com");
  EXPECT_EQ(transport->last().headers.get("Accept"), "application/json, application/jwt");

  // iss and aud are optional, but checked when present.
  push(200, signed_userinfo(key, {{"sub", "u-1"}}), "application/jwt");
  EXPECT_EQ(client.userinfo(token()).subject(), "u-1");
  push(200, signed_userinfo(key, {{"sub", "u-1"}, {"iss", "https://evil.example.com"}}), "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token()); }).code(), errc::issuer_mismatch);
  push(200, signed_userinfo(key, {{"sub", "u-1"}, {"aud", "other-client"}}), "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token()); }).code(), errc::audience_mismatch);
  push(200, signed_userinfo(key, {{"sub", "attacker"}}), "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token(), "u-1"); }).code(), errc::subject_mismatch);

  // Another key's signature, an algorithm outside the list, a symmetric key without opt-in.
  const auto other = oidc::SigningKey::generate(oidc::JwsAlgorithm::ES256, "op-key");
  push(200, signed_userinfo(other, {{"sub", "u-1"}}), "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token()); }).code(), errc::signature_invalid);
  push(200, signed_userinfo(oidc::SigningKey::generate(oidc::JwsAlgorithm::ES384, "op-key"), {{"sub", "u-1"}}),
       "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token()); }).code(), errc::algorithm_rejected);
  push(200, signed_userinfo(oidc::SigningKey::from_secret(oidc::Secret("a-client-secret-of-32-bytes-or-more!")),
                            {{"sub", "u-1"}}),
       "application/jwt");
  EXPECT_EQ(error_of([&] { (void)client.userinfo(token()); }).code(), errc::algorithm_rejected);
  // alg none.
  push(200,
       oidc::detail::base64url_encode(R"({"alg":"none"})") + "." + oidc::detail::base64url_encode(R"({"sub":"u-1"})") + ".",
       "application/jwt");
  EXPECT_NE(error_of([&] { (void)client.userinfo(token()); }).code(), errc::config);
}
