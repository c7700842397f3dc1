// Seed 003 (Vyopta, Keycloak realm "vyopta"): password grant with the public client `vyopta`, the
// mandatory `Host: login.vyopta.com` header and a lowercase "bearer" token type, replayed through
// the real libcurl transport against the LocalProvider.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fake_clock.hpp"
#include "error_of.hpp"
#include "local_provider.hpp"
#include "provider_fixture.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "seed_documents.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Error;
using oidc::Params;
using oidc_testing::FakeClock;
using oidc_testing::LocalProvider;
using oidc_testing::RecordedRequest;
using oidc_testing::error_of;
using oidc_testing::str;
namespace seeds = oidc_testing::seeds;

namespace {


class Seed003Password : public oidc_testing::ProviderFixture {
 protected:
  // The document's URL uses Keycloak's legacy /auth prefix.
  std::string token_path() const { return LocalProvider::legacy_token_path(LocalProvider::kVyoptaRealm); }

  ClientConfig config(bool with_host = true) const {
    ClientConfig c;
    c.token_endpoint = provider.legacy_token_endpoint(LocalProvider::kVyoptaRealm);
    c.client_id = str(seeds::kSeed003ClientId);  // public: no secret anywhere
    if (with_host) c.extra_headers.set("Host", str(seeds::kSeed003Host));
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }

  void expect_public_vyopta_request(const RecordedRequest& r) const {
    oidc_testing::expect_library_form_post(r);
    EXPECT_EQ(r.path, token_path());
    EXPECT_EQ(r.headers.count("Host"), 1u);
    EXPECT_EQ(r.header("Host"), "login.vyopta.com");
    EXPECT_FALSE(r.has_header("Authorization"));
    EXPECT_FALSE(r.form_value("client_secret").has_value());
    EXPECT_EQ(r.body.find("client_secret"), std::string::npos);
  }

};

}  // namespace

TEST_F(Seed003Password, PublicClientSendsHostHeaderAndNoSecret) {
  const Client client(config());
  const auto token = client.password(str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword));

  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_vyopta_request(requests[0]);
  const Params expected{{"grant_type", "password"},
                        {"username", "alice"},
                        {"password", "secret"},
                        {"client_id", "vyopta"}};
  EXPECT_EQ(requests[0].form, expected);

  EXPECT_EQ(token.token_type, seeds::kSeed003TokenType);  // kept as received: "bearer"
  EXPECT_EQ(token.type(), "Bearer");                      // normalised for the header
  EXPECT_EQ(token.authorization_header(), "Bearer " + token.access_token.expose());
  EXPECT_EQ(token.access_token.expose().rfind("eyJh", 0), 0u);  // "beginning eyJh", as documented
  EXPECT_EQ(*token.expiry, clock->now() + 300s);
  EXPECT_EQ(token.scope, seeds::kSeed003Scope);  // "email profile"
  EXPECT_TRUE(token.has_refresh_token());
  ASSERT_TRUE(token.refresh_expiry.has_value());
  EXPECT_EQ(*token.refresh_expiry, clock->now() + 1800s);
  EXPECT_EQ(token.extra.at("not-before-policy"), seeds::kSeed003NotBeforePolicy);
  EXPECT_TRUE(token.extra.at("session_state").is_string());
}

TEST_F(Seed003Password, ScopeIsSentAfterTheCredentials) {
  const Client client(config());
  const auto token =
      client.password(str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword), {"email profile"});

  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_vyopta_request(requests[0]);
  const Params expected{{"grant_type", "password"},
                        {"username", "alice"},
                        {"password", "secret"},
                        {"scope", "email profile"},
                        {"client_id", "vyopta"}};
  EXPECT_EQ(requests[0].form, expected);
  EXPECT_EQ(token.scope, "email profile");
}

TEST_F(Seed003Password, RejectedWithoutTheHostHeader) {
  expect_no_rejections = false;
  const Client client(config(/*with_host=*/false));
  const auto e = error_of(
      [&] { (void)client.password(str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword)); });

  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_request");
  EXPECT_EQ(e.http_status(), 400);
  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Host"), "127.0.0.1:" + std::to_string(provider.port()));
  const auto rejections = provider.rejections();
  ASSERT_EQ(rejections.size(), 1u);
  EXPECT_NE(rejections[0].reason.find("Host header must be login.vyopta.com"), std::string::npos)
      << rejections[0].reason;
}

TEST_F(Seed003Password, ParsesTheDocumentedAbbreviatedResponseVerbatim) {
  // The example's abbreviated access token "eyJhb ... -Pdl31W5g" holds spaces, which would split
  // the Authorization header (RFC 6750 b64token), so the verbatim body is refused; the replay below
  // differs from it only in that token, written without the spaces.
  oidc::HttpResponse verbatim;
  verbatim.status = 200;
  verbatim.body = str(seeds::kSeed003AbbreviatedPasswordResponse);
  const auto e = error_of([&] { (void)oidc::parse_token_response(verbatim, clock->now()); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("access_token is not an RFC 6750 b64token"), std::string::npos) << e.detail();
  std::string body = str(seeds::kSeed003AbbreviatedPasswordResponse);
  body.replace(body.find("eyJhb ... -Pdl31W5g"), 19, "eyJhb...-Pdl31W5g");
  provider.enqueue(token_path(), LocalProvider::Response::json(200, body));
  const Client client(config());
  const auto token = client.password(str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword));

  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 1u);
  expect_public_vyopta_request(requests[0]);

  EXPECT_EQ(token.access_token.expose(), "eyJhb...-Pdl31W5g");
  EXPECT_EQ(token.token_type, "bearer");
  EXPECT_EQ(token.authorization_header(), "Bearer eyJhb...-Pdl31W5g");
  EXPECT_EQ(*token.expiry, clock->now() + 300s);
  EXPECT_EQ(token.refresh_token.expose(), "ey J...-H5oAwI8");
  EXPECT_EQ(*token.refresh_expiry, clock->now() + 1800s);
  EXPECT_EQ(token.scope, "emailprofile");  // the example's (lost-space) value, verbatim
  EXPECT_EQ(token.extra.at("not-before-policy"), seeds::kSeed003NotBeforePolicy);
  EXPECT_EQ(token.extra.at("session_state"), seeds::kSeed003SessionState);
}

TEST_F(Seed003Password, ProviderRefusesRefreshWithUnauthorizedClient) {
  // "Refreshing the session is not implemented": the provider answers a refresh for `vyopta`
  // with unauthorized_client (the grant is not enabled for the client), not invalid_grant.
  const Client client(config());
  const auto token = client.password(str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword));
  const auto e = error_of([&] { (void)client.refresh(token); });

  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "unauthorized_client");
  EXPECT_EQ(e.http_status(), 400);
  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 2u);
  expect_public_vyopta_request(requests[1]);
  const Params expected{{"grant_type", "refresh_token"},
                        {"refresh_token", token.refresh_token.expose()},
                        {"client_id", "vyopta"}};
  EXPECT_EQ(requests[1].form, expected);
}

TEST_F(Seed003Password, TokenSourceReauthenticatesWithPasswordWhenRefreshIsRefused) {
  // LIBRARY BUG (reported): Client::regrant_source (include/oidc/client.hpp) falls back to the
  // password grant only when the refresh is refused with invalid_grant, but a server without
  // refresh (this seed; Keycloak with the grant disabled) answers unauthorized_client, so the
  // source throws instead of re-authenticating as the document requires ("Once a token has
  // expired, it is necessary to re-authenticate"). This test asserts the desired behaviour.
  const Client client(config());
  const auto source = client.token_source(
      oidc::grants::Password{str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword)});

  const auto first = source->token();
  ASSERT_EQ(provider.request_count(token_path()), 1u);
  clock->advance(301s);  // the 300 s token expired; the refresh token (1800 s) looks usable

  std::shared_ptr<const oidc::Token> second;
  try {
    second = source->token();
  } catch (const Error& e) {
    ADD_FAILURE() << "token source did not re-authenticate: " << e.what();
  }
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(second->access_token.equals(first->access_token.expose()));
  EXPECT_FALSE(second->expired(clock->now()));

  const auto requests = provider.requests(token_path());
  std::size_t password_grants = 0;
  std::size_t refreshes = 0;
  for (const auto& r : requests) {
    expect_public_vyopta_request(r);
    password_grants += r.form_value("grant_type") == std::string("password");
    refreshes += r.form_value("grant_type") == std::string("refresh_token");
  }
  EXPECT_EQ(password_grants, 2u);
  EXPECT_LE(refreshes, 1u);  // trying the refresh token once first is fine
  EXPECT_EQ(requests.back().form_value("grant_type"), std::string("password"));
  EXPECT_EQ(requests.back().form_value("password"), std::string("secret"));
}

TEST_F(Seed003Password, TokenSourceReauthenticatesOnceTheRefreshTokenHasExpired) {
  const Client client(config());
  const auto source = client.token_source(
      oidc::grants::Password{str(LocalProvider::kAliceUsername), str(LocalProvider::kAlicePassword)});

  const auto first = source->token();
  EXPECT_EQ(first->authorization_header(), "Bearer " + first->access_token.expose());
  EXPECT_EQ(source->authorization_header(), "Bearer " + first->access_token.expose());
  clock->advance(1801s);  // past refresh_expires_in too: the refresh token is not even tried
  const auto second = source->token();

  EXPECT_FALSE(second->access_token.equals(first->access_token.expose()));
  const auto requests = provider.requests(token_path());
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& r : requests) {
    expect_public_vyopta_request(r);
    const Params expected{{"grant_type", "password"},
                          {"username", "alice"},
                          {"password", "secret"},
                          {"client_id", "vyopta"}};
    EXPECT_EQ(r.form, expected);
  }
}
