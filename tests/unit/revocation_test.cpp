#include "oidc/client.hpp"
#include "oidc/revocation.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "error_of.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"

using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Params;
using oidc_testing::error_of;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;

namespace {

constexpr const char* kRevokeUrl = "https://auth.example.com/realms/core/protocol/openid-connect/revoke";
constexpr const char* kToken = "rt-Zm9vYmFyYmF6cXV4";

struct RevocationFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();

  Client client(ClientAuthMethod method = ClientAuthMethod::client_secret_post) const {
    ClientConfig c;
    c.revocation_endpoint = kRevokeUrl;
    c.client_id = "web";
    c.client_secret = "w3b-secret";
    c.auth_method = method;
    c.transport = transport;
    return Client(c);
  }
  void push(int status, std::string body, std::string content_type = "application/json") {
    oidc::HttpResponse r;
    r.status = status;
    if (!content_type.empty()) r.headers.set("Content-Type", content_type);
    r.body = std::move(body);
    transport->push(std::move(r));
  }
};

}  // namespace

TEST_F(RevocationFixture, PostsTokenAndHintWithClientAuthentication) {
  push(200, "", "");
  client().revoke(kToken, "refresh_token");
  const auto req = transport->last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, kRevokeUrl);
  EXPECT_EQ(req.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(form_of(req), (Params{{"token", kToken},
                                  {"token_type_hint", "refresh_token"},
                                  {"client_id", "web"},
                                  {"client_secret", "w3b-secret"}}));
  push(200, "", "");
  client(ClientAuthMethod::client_secret_basic).revoke(oidc::Secret(kToken));
  EXPECT_EQ(form_of(transport->last()), (Params{{"token", kToken}}));
  EXPECT_TRUE(transport->last().headers.contains("Authorization"));
}

TEST_F(RevocationFixture, AnyOkBodyIsSuccess) {
  push(200, "", "");
  EXPECT_NO_THROW(client().revoke(kToken));
  push(200, "<html>ok</html>", "text/html");
  EXPECT_NO_THROW(client().revoke(kToken));
  push(200, "{}");
  EXPECT_NO_THROW(client().revoke(kToken));
  push(204, "", "");
  EXPECT_NO_THROW(client().revoke(kToken));
}

TEST_F(RevocationFixture, OauthErrors) {
  push(400, R"({"error":"unsupported_token_type","error_description":"no revoking access tokens"})");
  auto e = error_of([&] { client().revoke(kToken, "access_token"); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "unsupported_token_type");
  EXPECT_EQ(e.http_status(), 400);
  push(401, std::string(R"({"error":"invalid_client","error_description":"w3b-secret is wrong for )") + kToken + "\"}");
  e = error_of([&] { client().revoke(kToken); });
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_TRUE(oidc_testing::is_clean(e, {"w3b-secret", kToken}));
}

TEST_F(RevocationFixture, ServiceUnavailableSaysRetry) {
  oidc::HttpResponse r;
  r.status = 503;
  r.headers.set("Retry-After", "120");
  transport->push(r);
  auto e = error_of([&] { client().revoke(kToken); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 503);
  EXPECT_NE(std::string(e.what()).find("retry after 120"), std::string::npos) << e.what();

  r.headers.set("Retry-After", std::string("\xc2\x9b") + kToken);
  transport->push(r);
  e = error_of([&] { client().revoke(kToken); });
  EXPECT_TRUE(oidc_testing::is_clean(e, {kToken}));

  push(503, "", "");
  e = error_of([&] { client().revoke(kToken); });
  EXPECT_NE(std::string(e.what()).find("retry later"), std::string::npos) << e.what();
}

TEST_F(RevocationFixture, OtherStatusesAreHttpStatus) {
  push(500, "<html>\x1b[31mboom</html>", "text/html");
  const auto e = error_of([&] { client().revoke(kToken); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_TRUE(oidc_testing::is_clean(e, {kToken}));
}

TEST_F(RevocationFixture, ConfigErrors) {
  ClientConfig c;
  c.client_id = "web";
  c.transport = transport;
  EXPECT_EQ(error_of([&] { Client(c).revoke(kToken); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { client().revoke(std::string_view{}); }).code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}
