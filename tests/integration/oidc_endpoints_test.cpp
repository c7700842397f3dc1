// Userinfo, introspection, revocation and JWT client authentication over the real libcurl
// transport against MisbehavingServer: what goes on the wire, and hostile answers (wrong types,
// deep nesting, duplicate members, huge bodies, HTML error pages, 5xx, escape sequences, echoed
// credentials), each a typed oidc::Error that keeps the message invariants
// (tests/support/message_hygiene.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "message_hygiene.hpp"
#include "misbehaving_server.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/detail/form.hpp"

using namespace std::chrono_literals;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Token;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::is_clean;
using oidc_testing::MisbehavingServer;

namespace {

const std::string kSecret = "s3cr\"et\\&%+ Val";
constexpr const char* kAccessToken = "AccessTok-Zm9vYmFyYmF6cXV4";

std::string form_value(const std::string& body, std::string_view name) {
  for (const auto& [k, v] : oidc::detail::form_decode(body))
    if (k == name) return v;
  return {};
}

class EndpointsOverCurl : public ::testing::Test {
 protected:
  ClientConfig config(ClientAuthMethod method = ClientAuthMethod::client_secret_basic) const {
    ClientConfig c;
    c.issuer = server.url("");
    c.token_endpoint = server.url("/token");
    c.userinfo_endpoint = server.url("/userinfo");
    c.introspection_endpoint = server.url("/introspect");
    c.revocation_endpoint = server.url("/revoke");
    c.client_id = "rs-client";
    c.client_secret = kSecret;
    c.auth_method = method;
    c.transport = transport;
    c.clock = clock;
    c.timeout = 10s;
    return c;
  }
  oidc::Client client(ClientAuthMethod method = ClientAuthMethod::client_secret_basic) const {
    return oidc::Client(config(method));
  }
  static Token bearer() {
    Token t;
    t.access_token = kAccessToken;
    t.token_type = "Bearer";
    return t;
  }
  std::vector<std::string> credentials() const {
    std::vector<std::string> out{kSecret, kAccessToken};
    for (const auto& r : server.requests()) {
      if (const auto a = r.header("Authorization")) {
        out.push_back(*a);
        if (a->rfind("Basic ", 0) == 0) out.push_back(a->substr(6));
      }
      for (const char* name : {"client_secret", "client_assertion", "token"})
        if (const auto v = form_value(r.body, name); !v.empty()) out.push_back(v);
    }
    return out;
  }

  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<oidc::Transport> transport = oidc::make_curl_transport();
  MisbehavingServer server;
};

std::string deep(std::size_t levels) { return "{\"sub\":\"u\",\"active\":true,\"x\":" + std::string(levels, '[') + std::string(levels, ']') + "}"; }

}  // namespace

// ---- What goes on the wire ------------------------------------------------------------------------

TEST_F(EndpointsOverCurl, UserinfoIsABearerGet) {
  server.push(MisbehavingServer::json(200, R"({"sub":"u-1","email":"a@example.com"})"));
  const auto info = client().userinfo(bearer(), "u-1");
  EXPECT_EQ(info.email(), "a@example.com");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/userinfo");
  EXPECT_EQ(reqs[0].header("Authorization"), std::string("Bearer ") + kAccessToken);
  EXPECT_EQ(reqs[0].body, "");
}

TEST_F(EndpointsOverCurl, IntrospectionAndRevocationAreAuthenticatedPosts) {
  server.push(MisbehavingServer::json(200, R"({"active":true,"scope":"a b","sub":"u-1"})"));
  const auto r = client(ClientAuthMethod::client_secret_post).introspect(kAccessToken, "access_token");
  EXPECT_TRUE(r.active);
  EXPECT_EQ(r.scope, (std::vector<std::string>{"a", "b"}));
  server.push(MisbehavingServer::text(200, "text/plain", ""));
  client(ClientAuthMethod::client_secret_post).revoke(kAccessToken, "access_token");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/introspect");
  EXPECT_EQ(reqs[1].target, "/revoke");
  for (const auto& req : reqs) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(form_value(req.body, "token"), kAccessToken);
    EXPECT_EQ(form_value(req.body, "token_type_hint"), "access_token");
    EXPECT_EQ(form_value(req.body, "client_id"), "rs-client");
    EXPECT_EQ(form_value(req.body, "client_secret"), kSecret);
  }
}

TEST_F(EndpointsOverCurl, RevocationSuccessWithEmptyBodyAndNoContentType) {
  server.push(MisbehavingServer::raw("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  EXPECT_NO_THROW(client().revoke(kAccessToken));
}

TEST_F(EndpointsOverCurl, PrivateKeyJwtOnTheWire) {
  auto cfg = config(ClientAuthMethod::private_key_jwt);
  const auto key = oidc::SigningKey::generate(oidc::JwsAlgorithm::ES256, "k1");
  cfg.signing_key = key;
  cfg.assertion_audience = oidc::AssertionAudience::endpoint;
  server.push(MisbehavingServer::json(200, R"({"active":false})"));
  EXPECT_FALSE(oidc::Client(cfg).introspect(kAccessToken).active);
  const auto req = server.requests().at(0);
  EXPECT_FALSE(req.header("Authorization"));
  EXPECT_EQ(form_value(req.body, "client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  const auto jwt = form_value(req.body, "client_assertion");
  const auto dot1 = jwt.find('.');
  const auto dot2 = jwt.rfind('.');
  const auto payload = nlohmann::json::parse(*oidc::detail::base64url_decode_strict(jwt.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(payload["aud"], server.url("/introspect"));
  EXPECT_EQ(payload["iss"], "rs-client");
  EXPECT_TRUE(key.verification_key().verify(oidc::JwsAlgorithm::ES256, jwt.substr(0, dot2),
                                            *oidc::detail::base64url_decode_strict(jwt.substr(dot2 + 1))));
}

// ---- Hostile answers --------------------------------------------------------------------------------

TEST_F(EndpointsOverCurl, WrongTypesAreParseErrors) {
  for (const char* body : {R"({"sub":7})", R"({"sub":""})"}) {
    server.push(MisbehavingServer::json(200, body));
    const auto e = error_of([&] { (void)client().userinfo(bearer()); });
    EXPECT_EQ(e.code(), errc::missing_claim) << body;
    EXPECT_TRUE(is_clean(e, credentials()));
  }
  for (const char* body : {R"([{"sub":"u"}])", R"("u")"}) {
    server.push(MisbehavingServer::json(200, body));
    const auto e = error_of([&] { (void)client().userinfo(bearer()); });
    EXPECT_EQ(e.code(), errc::parse) << body;
    EXPECT_TRUE(is_clean(e, credentials()));
  }
  for (const char* body : {R"({"active":"yes"})", R"({"active":true,"exp":"soon"})", R"({"active":true,"aud":{}})"}) {
    server.push(MisbehavingServer::json(200, body));
    const auto e = error_of([&] { (void)client().introspect(kAccessToken); });
    EXPECT_EQ(e.code(), errc::parse) << body;
    EXPECT_TRUE(is_clean(e, credentials()));
  }
}

TEST_F(EndpointsOverCurl, DeepNestingAndDuplicateMembers) {
  server.push(MisbehavingServer::json(200, deep(100000)));
  EXPECT_EQ(error_of([&] { (void)client().userinfo(bearer()); }).code(), errc::parse);
  server.push(MisbehavingServer::json(200, deep(100000)));
  EXPECT_EQ(error_of([&] { (void)client().introspect(kAccessToken); }).code(), errc::parse);
  server.push(MisbehavingServer::json(200, R"({"sub":"victim","sub":"attacker"})"));
  EXPECT_EQ(error_of([&] { (void)client().userinfo(bearer()); }).code(), errc::parse);
  server.push(MisbehavingServer::json(200, R"({"active":false,"active":true})"));
  EXPECT_EQ(error_of([&] { (void)client().introspect(kAccessToken); }).code(), errc::parse);
}

TEST_F(EndpointsOverCurl, HugeBodiesAreBounded) {
  const std::string huge = R"({"sub":"u","pad":")" + std::string(3 * 1024 * 1024, 'a') + "\"}";
  server.push(MisbehavingServer::json(200, huge));
  EXPECT_EQ(error_of([&] { (void)client().userinfo(bearer()); }).code(), errc::response_too_large);
  server.push(MisbehavingServer::json(200, R"({"active":true,"pad":")" + std::string(3 * 1024 * 1024, 'a') + "\"}"));
  EXPECT_EQ(error_of([&] { (void)client().introspect(kAccessToken); }).code(), errc::response_too_large);
  // A revocation's 200 body is ignored, but still not read without bound.
  server.push(MisbehavingServer::text(200, "text/html", std::string(3 * 1024 * 1024, 'a')));
  EXPECT_EQ(error_of([&] { client().revoke(kAccessToken); }).code(), errc::response_too_large);
}

TEST_F(EndpointsOverCurl, HtmlErrorPagesAnd5xx) {
  const std::string html = std::string("<html><body>Bad gateway for ") + kAccessToken + "</body></html>";
  server.push(MisbehavingServer::text(502, "text/html", html));
  auto e = error_of([&] { (void)client().userinfo(bearer()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 502);
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(MisbehavingServer::text(500, "text/html", html));
  e = error_of([&] { (void)client().introspect(kAccessToken); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(MisbehavingServer::text(503, "text/html", html, {{"Retry-After", "30"}}));
  e = error_of([&] { client().revoke(kAccessToken); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_NE(std::string(e.what()).find("retry after 30"), std::string::npos) << e.what();
  EXPECT_TRUE(is_clean(e, credentials()));
  // 200 with a login page instead of claims.
  server.push(MisbehavingServer::text(200, "text/html", "<html>Sign in</html>"));
  EXPECT_EQ(error_of([&] { (void)client().userinfo(bearer()); }).code(), errc::parse);
}

TEST_F(EndpointsOverCurl, EscapeSequencesNeverReachWhat) {
  server.push(MisbehavingServer::json(401, "{\"error\":\"invalid_token\",\"error_description\":\"\\u001b]0;owned\\u0007\\u001b[2J\"}"));
  auto e = error_of([&] { (void)client().userinfo(bearer()); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(MisbehavingServer::json(200, "{\"active\":\"\x1b[31m\"}"));
  e = error_of([&] { (void)client().introspect(kAccessToken); });
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(MisbehavingServer::text(400, "text/plain", "error \x1b[2J\x9b" "31m"));
  e = error_of([&] { client().revoke(kAccessToken); });
  EXPECT_TRUE(is_clean(e, credentials()));
}

TEST_F(EndpointsOverCurl, WwwAuthenticateChallenge) {
  server.push(MisbehavingServer::text(401, "text/plain", "",
                                      {{"WWW-Authenticate", R"(Bearer realm="core", error="invalid_token", error_description="expired")"}}));
  auto e = error_of([&] { (void)client().userinfo(bearer()); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_token");
  EXPECT_EQ(e.oauth()->error_description, "expired");
  // The token echoed in the challenge, and bytes a terminal would obey.
  server.push(MisbehavingServer::text(401, "text/plain", "",
                                      {{"WWW-Authenticate", std::string("Bearer realm=\"") + kAccessToken + "\xc2\x9b" "2J\""}}));
  e = error_of([&] { (void)client().userinfo(bearer()); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_NE(std::string(e.what()).find("WWW-Authenticate"), std::string::npos);
  EXPECT_TRUE(is_clean(e, credentials()));
}

TEST_F(EndpointsOverCurl, EchoedSecretAndAssertionAreRedacted) {
  // The server repeats everything it got in its error text.
  const auto echo_all = [&](int status) {
    // The request is only known after it arrived; the answer is pushed before, so echo the
    // values the client is known to send: the secret, the token.
    return MisbehavingServer::json(status, nlohmann::json{{"error", "invalid_client"},
                                                          {"error_description", "got " + kSecret + " for " + kAccessToken}}
                                               .dump());
  };
  server.push(echo_all(401));
  auto e = error_of([&] { (void)client(ClientAuthMethod::client_secret_post).introspect(kAccessToken); });
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(echo_all(400));
  e = error_of([&] { client().revoke(kAccessToken); });
  EXPECT_TRUE(is_clean(e, credentials()));
  server.push(MisbehavingServer::text(500, "text/plain", std::string("secret=") + kSecret + " token=" + kAccessToken));
  e = error_of([&] { (void)client(ClientAuthMethod::client_secret_post).introspect(kAccessToken); });
  EXPECT_FALSE(e.body_snippet().empty());
  EXPECT_TRUE(is_clean(e, credentials()));
}
