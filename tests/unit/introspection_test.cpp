#include "oidc/client.hpp"
#include "oidc/introspection.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Params;
using oidc_testing::error_of;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;

namespace {

constexpr const char* kIntrospectUrl = "https://auth.example.com/realms/core/protocol/openid-connect/token/introspect";
constexpr const char* kToken = "opaque-Zm9vYmFyYmF6cXV4";

struct IntrospectionFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  Client client(ClientAuthMethod method = ClientAuthMethod::client_secret_basic) const {
    ClientConfig c;
    c.introspection_endpoint = kIntrospectUrl;
    c.client_id = "rs";
    c.client_secret = "rs-s3cret";
    c.auth_method = method;
    c.transport = transport;
    c.clock = clock;
    return Client(c);
  }
  long long now_s() const { return std::chrono::duration_cast<std::chrono::seconds>(clock->now().time_since_epoch()).count(); }
};

}  // namespace

TEST_F(IntrospectionFixture, SendsTokenHintAndClientAuthentication) {
  transport->push_json(200, R"({"active":false})");
  const auto r = client().introspect(kToken, "access_token");
  EXPECT_FALSE(r.active);
  EXPECT_FALSE(r.server_active);
  const auto req = transport->last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, kIntrospectUrl);
  EXPECT_EQ(req.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.headers.get("Authorization"), "Basic cnM6cnMtczNjcmV0");  // base64("rs:rs-s3cret")
  EXPECT_EQ(form_of(req), (Params{{"token", kToken}, {"token_type_hint", "access_token"}}));

  transport->push_json(200, R"({"active":false})");
  (void)client(ClientAuthMethod::client_secret_post).introspect(oidc::Secret(kToken));
  EXPECT_EQ(form_of(transport->last()),
            (Params{{"token", kToken}, {"client_id", "rs"}, {"client_secret", "rs-s3cret"}}));
}

TEST_F(IntrospectionFixture, ReadsEveryRfc7662Member) {
  const auto now = now_s();
  transport->push_json(200, R"({"active":true,"scope":"openid  profile email","client_id":"web","username":"alice",
    "token_type":"Bearer","exp":)" + std::to_string(now + 300) + R"(,"iat":)" + std::to_string(now - 10) +
                                R"(,"nbf":)" + std::to_string(now - 10) + R"(,"sub":"u-1","aud":["rs","other"],
    "iss":"https://auth.example.com/realms/core","jti":"j-1","ext":{"tenant":"core"}})");
  const auto r = client().introspect(kToken);
  EXPECT_TRUE(r.active);
  EXPECT_TRUE(r.server_active);
  EXPECT_EQ(r.scope, (std::vector<std::string>{"openid", "profile", "email"}));
  EXPECT_TRUE(r.has_scope("profile"));
  EXPECT_FALSE(r.has_scope("prof"));
  EXPECT_EQ(r.client_id, "web");
  EXPECT_EQ(r.username, "alice");
  EXPECT_EQ(r.token_type, "Bearer");
  EXPECT_EQ(r.exp, clock->now() + 300s);
  EXPECT_EQ(r.iat, clock->now() - 10s);
  EXPECT_EQ(r.nbf, clock->now() - 10s);
  EXPECT_EQ(r.sub, "u-1");
  EXPECT_EQ(r.aud, (std::vector<std::string>{"rs", "other"}));
  EXPECT_TRUE(r.has_audience("other"));
  EXPECT_EQ(r.iss, "https://auth.example.com/realms/core");
  EXPECT_EQ(r.jti, "j-1");
  EXPECT_EQ(r.claims()["ext"]["tenant"], "core");

  transport->push_json(200, R"({"active":true,"aud":"rs"})");
  EXPECT_EQ(client().introspect(kToken).aud, std::vector<std::string>{"rs"});
}

TEST_F(IntrospectionFixture, ActiveIsRequiredBoolean) {
  for (const char* body : {R"({})", R"({"active":"true"})", R"({"active":1})", R"({"active":null})", R"({"scope":"a"})"}) {
    transport->push_json(200, body);
    const auto e = error_of([&] { (void)client().introspect(kToken); });
    EXPECT_EQ(e.code(), errc::parse) << body;
    EXPECT_NE(std::string(e.what()).find("active"), std::string::npos) << e.what();
  }
}

TEST_F(IntrospectionFixture, WrongMemberTypesAreParseErrors) {
  for (const char* body :
       {R"({"active":true,"scope":["a"]})", R"({"active":true,"scope":"a\"b"})", R"({"active":true,"client_id":5})",
        R"({"active":true,"username":{}})", R"({"active":true,"token_type":true})", R"({"active":true,"sub":1})",
        R"({"active":true,"iss":[]})", R"({"active":true,"jti":2})", R"({"active":true,"aud":5})",
        R"({"active":true,"aud":["a",5]})", R"({"active":true,"exp":"1700000300"})", R"({"active":true,"exp":-1})",
        R"({"active":true,"iat":1e300})", R"({"active":true,"nbf":null})"}) {
    transport->push_json(200, body);
    EXPECT_EQ(error_of([&] { (void)client().introspect(kToken); }).code(), errc::parse) << body;
  }
}

TEST_F(IntrospectionFixture, ActiveButExpiredIsInactive) {
  const auto now = now_s();
  // Past exp beyond the leeway (30 s): not active, whatever the server said.
  transport->push_json(200, R"({"active":true,"exp":)" + std::to_string(now - 31) + "}");
  auto r = client().introspect(kToken);
  EXPECT_TRUE(r.server_active);
  EXPECT_FALSE(r.active);
  // Within the leeway: active.
  transport->push_json(200, R"({"active":true,"exp":)" + std::to_string(now - 29) + "}");
  EXPECT_TRUE(client().introspect(kToken).active);
  // nbf ahead beyond the leeway: not yet active.
  transport->push_json(200, R"({"active":true,"nbf":)" + std::to_string(now + 31) + "}");
  EXPECT_FALSE(client().introspect(kToken).active);
  transport->push_json(200, R"({"active":true,"nbf":)" + std::to_string(now + 29) + "}");
  EXPECT_TRUE(client().introspect(kToken).active);
}

TEST_F(IntrospectionFixture, ErrorsAndHostileBodies) {
  transport->push_json(401, R"({"error":"invalid_client","error_description":"bad rs-s3cret"})");
  auto e = error_of([&] { (void)client().introspect(kToken); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_TRUE(oidc_testing::is_clean(e, {"rs-s3cret", kToken}));

  oidc::HttpResponse html;
  html.status = 502;
  html.headers.set("Content-Type", "text/html");
  html.body = std::string("<html>Bad gateway ") + kToken + " \x1b[2J</html>";
  transport->push(html);
  e = error_of([&] { (void)client().introspect(kToken); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_TRUE(oidc_testing::is_clean(e, {"rs-s3cret", kToken}));

  transport->push_json(200, R"({"active":true,"active":false})");
  EXPECT_EQ(error_of([&] { (void)client().introspect(kToken); }).code(), errc::parse);
  transport->push_json(200, "{\"active\":true,\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}");
  EXPECT_EQ(error_of([&] { (void)client().introspect(kToken); }).code(), errc::parse);
  // A broken body echoing the token and the secret: neither reaches the message.
  transport->push_json(200, std::string("{\"active\":true,\"token\":\"") + kToken + "\",\"s\":\"rs-s3cret\x1b]0;x\x07\"");
  e = error_of([&] { (void)client().introspect(kToken); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_TRUE(oidc_testing::is_clean(e, {"rs-s3cret", kToken}));
}

TEST_F(IntrospectionFixture, ConfigErrors) {
  ClientConfig c;
  c.client_id = "rs";
  c.transport = transport;
  EXPECT_EQ(error_of([&] { (void)Client(c).introspect(kToken); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { (void)client().introspect(std::string_view{}); }).code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}
