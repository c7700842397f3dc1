// The authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636), PAR (RFC 9126), RFC 9207 iss
// and resource indicators (RFC 8707), end to end against oidc-provider: the library builds the
// request and exchanges the code over the real libcurl transport; Browser logs the user in and
// consents at the provider's own pages.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "browser.hpp"
#include "error_of.hpp"
#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/loopback.hpp"

namespace {

using oidc_interop::Browser;
using oidc_interop::Provider;
using oidc_testing::error_of;
using oidc_testing::is_clean;

const std::string kLogin{oidc_interop::kAlice};
const std::string kPassword = "any-password-will-do";  // dev interactions ignore it
const std::string kRedirect{oidc_interop::kRedirectUri};

using oidc_interop::RecordingTransport;

oidc::AuthorizationOptions options(std::string scope = "openid offline_access api:read") {
  oidc::AuthorizationOptions o;
  o.redirect_uri = kRedirect;
  o.scope = std::move(scope);
  // oidc-provider issues a refresh token for offline_access only after an explicit consent prompt.
  o.extra = {{"prompt", "consent"}};
  return o;
}

nlohmann::json jwt_payload(const std::string& jwt) {
  const auto first = jwt.find('.'), second = jwt.find('.', first + 1);
  const auto payload = oidc::detail::base64_decode(jwt.substr(first + 1, second - first - 1));
  return nlohmann::json::parse(payload.value_or("{}"));
}

// A public native client (RFC 8252): PKCE S256, the code exchanged with client_id and verifier,
// the provider's own view confirms the user; the ID token carries the request's nonce.
TEST(InteropAuthorizationCode, PublicClientWithPkce) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kNative));
  auto request = client.authorization_request(options());
  const std::string nonce = request.nonce();
  ASSERT_FALSE(nonce.empty());
  const auto redirect = Browser(p.ca_file()).authorize(request.url(), kRedirect, kLogin, kPassword);
  const auto token = client.exchange_code(std::move(request), redirect);

  EXPECT_EQ(p.introspect(token.access_token.expose()).value("sub", ""), kLogin);
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("client_id", ""), oidc_interop::kNative.id);
  EXPECT_TRUE(token.has_refresh_token());
  ASSERT_FALSE(token.id_token.empty());
  const auto claims = jwt_payload(token.id_token.expose());
  EXPECT_EQ(claims.value("nonce", ""), nonce);
  EXPECT_EQ(claims.value("iss", ""), p.issuer());
  EXPECT_EQ(claims.value("aud", ""), oidc_interop::kNative.id);
}

// A confidential client through PAR: the parameters go to the provider's PAR endpoint with Basic
// authentication, the browser sees only client_id and request_uri, and the exchange works.
TEST(InteropAuthorizationCode, ConfidentialClientThroughPushedAuthorizationRequest) {
  const auto& p = Provider::get();
  auto config = p.config(oidc_interop::kWeb);
  config.pushed_authorization_request_endpoint = p.endpoint("pushed_authorization_request_endpoint");
  const oidc::Client client(config);
  auto request = client.authorization_request(options());
  ASSERT_TRUE(request.pushed());
  const auto query = oidc_interop::url_parameters(request.url());
  ASSERT_EQ(query.size(), 2u) << request.url();
  EXPECT_EQ(oidc_interop::field(query, "client_id"), oidc_interop::kWeb.id);
  EXPECT_EQ(oidc_interop::field(query, "request_uri").value_or("").rfind("urn:ietf:params:oauth:request_uri:", 0), 0u);
  EXPECT_FALSE(oidc_interop::field(query, "state")) << "the state travels only in the pushed request";

  const auto redirect = Browser(p.ca_file()).authorize(request.url(), kRedirect, kLogin, kPassword);
  EXPECT_EQ(oidc_interop::field(oidc_interop::url_parameters(redirect), "state"), request.state());
  const auto token = client.exchange_code(std::move(request), redirect);
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("sub", ""), kLogin);
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("client_id", ""), oidc_interop::kWeb.id);
}

// RFC 9207: the provider sends iss and declares it, so the library requires it; a client that
// believes it talks to another issuer refuses the response and never sends the code anywhere.
TEST(InteropAuthorizationCode, AResponseFromAnotherIssuerIsRefusedBeforeTheExchange) {
  const auto& p = Provider::get();
  auto config = p.config(oidc_interop::kNative);
  ASSERT_TRUE(config.authorization_response_iss_parameter_supported);
  config.issuer = "https://issuer.elsewhere.example";
  const auto recording = std::make_shared<RecordingTransport>(p.transport());
  config.transport = recording;
  const oidc::Client client(config);
  auto request = client.authorization_request(options("openid"));
  const auto redirect = Browser(p.ca_file()).authorize(request.url(), kRedirect, kLogin, kPassword);
  EXPECT_EQ(oidc_interop::field(oidc_interop::url_parameters(redirect), "iss"), p.issuer());
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), redirect); });
  EXPECT_EQ(e.code(), oidc::errc::issuer_mismatch) << e.what();
  EXPECT_TRUE(recording->exchanges().empty()) << "the code went to " << recording->exchanges().front().request.url;
}

// A redirect carrying another request's state (a CSRF or a stale tab) is refused, and its code is
// not exchanged.
TEST(InteropAuthorizationCode, AnotherRequestsRedirectIsRefused) {
  const auto& p = Provider::get();
  auto config = p.config(oidc_interop::kNative);
  const auto recording = std::make_shared<RecordingTransport>(p.transport());
  config.transport = recording;
  const oidc::Client client(config);
  auto mine = client.authorization_request(options("openid"));
  auto theirs = client.authorization_request(options("openid"));
  const auto redirect = Browser(p.ca_file()).authorize(theirs.url(), kRedirect, kLogin, kPassword);
  const auto e = error_of([&] { (void)client.exchange_code(std::move(mine), redirect); });
  EXPECT_EQ(e.code(), oidc::errc::state_mismatch) << e.what();
  EXPECT_TRUE(recording->exchanges().empty());
}

// The user cancels at the login page: the provider's access_denied, with the request's state and
// iss, as a typed error.
TEST(InteropAuthorizationCode, DenialIsAccessDenied) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kNative));
  auto request = client.authorization_request(options("openid"));
  const auto redirect = Browser(p.ca_file()).deny_authorization(request.url(), kRedirect);
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), redirect); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error) << e.what();
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_TRUE(is_clean(e, {}));
}

// oidc-provider supports only S256 (code_challenge_methods_supported); a plain challenge, which the
// library sends only on request, comes back as the provider's invalid_request.
TEST(InteropAuthorizationCode, PlainPkceIsRefusedByTheProvider) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kNative));
  auto o = options("openid");
  o.pkce_method = oidc::PkceMethod::plain;
  auto request = client.authorization_request(o);
  Browser browser(p.ca_file());
  const auto page = browser.follow(browser.get(request.url()), kRedirect);
  ASSERT_TRUE(page.is_redirect()) << page.describe();
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), page.location); });
  EXPECT_EQ(e.oauth_code(), "invalid_request") << e.what();
}

// RFC 8707: the resource goes in both requests; the access token is then a JWT for that audience.
TEST(InteropAuthorizationCode, ResourceIndicatorGivesATokenForTheApi) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kWeb));
  auto o = options("openid api:read");
  o.resource = {std::string(oidc_interop::kApiResource)};
  auto request = client.authorization_request(o);
  const auto redirect = Browser(p.ca_file()).authorize(request.url(), kRedirect, kLogin, kPassword);
  const auto token = client.exchange_code(std::move(request), redirect);
  const auto claims = jwt_payload(token.access_token.expose());
  EXPECT_EQ(claims.value("aud", ""), oidc_interop::kApiResource);
  EXPECT_EQ(claims.value("sub", ""), kLogin);
  EXPECT_EQ(claims.value("scope", ""), "api:read");
}

// The exchanged token feeds token_source(Token): renewals refresh with rotation, each with the
// newest refresh token (the provider revokes the grant if one is ever reused).
TEST(InteropAuthorizationCode, TheTokenRefreshesThroughATokenSource) {
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kWeb));
  auto request = client.authorization_request(options());
  const auto redirect = Browser(p.ca_file()).authorize(request.url(), kRedirect, kLogin, kPassword);
  const auto source = client.token_source(client.exchange_code(std::move(request), redirect));
  std::vector<std::string> refresh_tokens;
  for (int i = 0; i < 3; ++i) {
    const auto t = source->token();
    refresh_tokens.push_back(t->refresh_token.expose());
    EXPECT_EQ(p.introspect(t->access_token.expose()).value("active", false), true) << i;
    source->invalidate(*t);
  }
  EXPECT_NE(refresh_tokens[0], refresh_tokens[1]);
  EXPECT_NE(refresh_tokens[1], refresh_tokens[2]);
  EXPECT_EQ(p.introspect(source->token()->refresh_token.expose()).value("active", false), true)
      << "a reused refresh token would have revoked the grant";
}

// The native-app login in one call (RFC 8252): loopback_login's listener at an ephemeral port,
// oidc-provider accepting the loopback redirect on any port (§7.3) for its native client, the
// browser logging in and following the redirect to the listener.
TEST(InteropAuthorizationCode, LoopbackLoginOfANativeApp) {
  if (!oidc::loopback_available()) GTEST_SKIP() << "built with OIDC_WITH_LOOPBACK=OFF";
  const auto& p = Provider::get();
  const oidc::Client client(p.config(oidc_interop::kNative));
  std::thread browser;
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join_browser{browser};
  std::string redirect;
  long listener_status = 0;
  oidc::LoopbackOptions loopback;
  loopback.timeout = std::chrono::seconds(30);  // bounds a broken flow
  loopback.open_browser = [&](const std::string& url) {
    browser = std::thread([&, url] {
      Browser b(p.ca_file());
      redirect = b.authorize(url, "http://127.0.0.1:", kLogin, kPassword);
      listener_status = b.get(redirect).status;
    });
  };
  auto o = options();
  o.redirect_uri.clear();  // the listener's
  const auto token = oidc::loopback_login(client, o, loopback);
  if (browser.joinable()) browser.join();
  EXPECT_EQ(listener_status, 200);
  EXPECT_NE(redirect.find("/callback?"), std::string::npos) << redirect;
  EXPECT_EQ(p.introspect(token.access_token.expose()).value("sub", ""), kLogin);
  EXPECT_TRUE(token.has_refresh_token());
}

}  // namespace
