// Seed 002 (SimpleIdServer 4.0.4-rc1, realm "master"): client credentials, resource owner password,
// device flow, authorization code and (deprecated) implicit grant, replayed through the real
// libcurl transport against the LocalProvider; the test plays the browser for the last two.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "message_hygiene.hpp"
#include "provider_fixture.hpp"
#include "redirect_browser.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/form.hpp"
#include "seed_documents.hpp"

// The implicit grant's API is deprecated on purpose; seed 002 documents it, so it is replayed.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::DevicePollOptions;
using oidc::DevicePollProgress;
using oidc::Params;
using oidc_testing::FakeClock;
using oidc_testing::LocalProvider;
using oidc_testing::RecordedRequest;
using oidc_testing::str;
namespace seeds = oidc_testing::seeds;

namespace {

constexpr const char* kDeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code";


std::vector<std::string> sorted_names(const Params& fields) {
  std::vector<std::string> names;
  for (const auto& field : fields) names.push_back(field.first);
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json jwt_payload(const std::string& jwt) {
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  std::string b64 = jwt.substr(first + 1, second - first - 1);
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  return nlohmann::json::parse(*oidc_testing::local_provider_detail::base64_decode(b64));
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && std::string("0123456789abcdef").find(s[i]) == std::string::npos) return false;
  }
  return true;
}

class Seed002SimpleIdServer : public oidc_testing::ProviderFixture {
 protected:
  // exchange_code validates ID tokens, whose iat and exp are the provider's real time: the fake
  // clock starts there.
  Seed002SimpleIdServer() { clock->set(std::chrono::system_clock::now()); }

  // Every seed 002 request carries client_id and client_secret in the body (client_secret_post).
  ClientConfig config(std::string_view client_id, std::string_view secret) const {
    ClientConfig c;
    c.token_endpoint = provider.sid_token_endpoint();
    // Seed 002 shows the device request going to "/token"; RFC 8628 §3.1 sends it to the separate
    // device authorization endpoint (SimpleIdServer: /<realm>/device_authorization).
    c.device_authorization_endpoint = provider.sid_device_endpoint();
    c.client_id = str(client_id);
    c.client_secret = str(secret);
    c.auth_method = ClientAuthMethod::client_secret_post;
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }

  // "website" at the SimpleIdServer authorization endpoint. Seed 002's callbacks carry no iss and
  // the provider's SimpleIdServer metadata declares none, so the issuer is known but iss optional.
  ClientConfig website() const {
    ClientConfig c = config(LocalProvider::kSidWebsiteClientId, LocalProvider::kSidWebsiteClientSecret);
    c.issuer = provider.sid_issuer();
    c.authorization_endpoint = provider.sid_authorization_endpoint();
    // exchange_code validates the ID token: SimpleIdServer's key set, ES256 as the realm signs.
    c.jwks_uri = provider.sid_jwks_endpoint();
    c.id_token_algorithms = {oidc::JwsAlgorithm::ES256};
    return c;
  }
  static oidc::AuthorizationOptions seed_options() {
    oidc::AuthorizationOptions o;
    o.redirect_uri = str(LocalProvider::kSidWebsiteRedirectUri);
    o.scope = "openid profile";
    o.state = "1234567890";
    return o;
  }
  // The browser: one GET, the redirect's Location as the provider wrote it.
  std::string browse(const std::string& url) const {
    const auto page = oidc_testing::browser_get(url);
    EXPECT_EQ(page.status, 302) << page.body;
    return page.location;
  }
  // The authorization request as the provider received it (after browse), next to the document's.
  void expect_seed_request(const std::string& sent_url, std::string_view seed_query,
                           const std::vector<std::string>& library_additions) const {
    const auto gets = provider.requests(LocalProvider::sid_authorization_path());
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(provider.base_url() + gets[0].target, sent_url);
    const auto q = sent_url.find('?');
    const auto sent = oidc::detail::form_decode(sent_url.substr(q + 1));
    // The document's query has "&&" (an empty parameter) and a raw space; the library sends neither.
    EXPECT_EQ(sent_url.find("&&"), std::string::npos);
    EXPECT_NE(sent_url.find("&scope=openid+profile&"), std::string::npos);
    const auto seed = oidc::detail::form_decode(seed_query);
    for (const auto& [name, value] : seed) {
      if (name.empty()) continue;  // the "&&"
      // "your_client_id" is the document's placeholder: its token request (and the implicit
      // access token's client_id claim) name the client "website", and RFC 6749 §4.1.3 binds a
      // code to the client that asked for it, so one client does both.
      EXPECT_EQ(value_of(sent, name), name == "client_id" ? "website" : value) << name;
    }
    auto expected = sorted_names(seed);
    expected.erase(std::remove(expected.begin(), expected.end(), ""), expected.end());
    expected.insert(expected.end(), library_additions.begin(), library_additions.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(sorted_names(sent), expected);
  }
  static std::string value_of(const Params& p, const std::string& name) {
    for (const auto& [n, v] : p)
      if (n == name) return v;
    return "<absent>";
  }

  void expect_form_post_headers(const RecordedRequest& r) const {
    // Seed 002 writes "Content-Type: x-www-form-urlencoded"; RFC 6749 §4.4.2 / Appendix B need the
    // full media type application/x-www-form-urlencoded.
    oidc_testing::expect_library_form_post(r);
    EXPECT_EQ(r.header("Host"), "127.0.0.1:" + std::to_string(provider.port()));
    EXPECT_FALSE(r.has_header("Authorization"));  // client_secret_post only: never both methods
  }
};

}  // namespace

TEST_F(Seed002SimpleIdServer, ClientCredentialsWithScopeNetworks) {
  const Client client(config(LocalProvider::kSidDeviceClientId, LocalProvider::kSidDeviceClientSecret));
  const auto token = client.client_credentials({"networks"});

  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  expect_form_post_headers(r);
  const Params expected{{"grant_type", "client_credentials"},
                        {"scope", "networks"},
                        {"client_id", "device"},
                        {"client_secret", "password"}};
  EXPECT_EQ(r.form, expected);
  // Same fields as the document's verbatim body (whose order is client_id, grant_type, ...).
  const auto seed_form = oidc::detail::form_decode(seeds::kSeed002ClientCredentialsRequestBody);
  EXPECT_EQ(sorted_names(r.form), sorted_names(seed_form));
  for (const auto& [name, value] : seed_form) EXPECT_EQ(r.form_value(name), value) << name;

  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(token.scope, "networks");
  EXPECT_EQ(*token.expiry, clock->now() + 1800s);
  EXPECT_FALSE(token.has_refresh_token());  // no user, no refresh token
  EXPECT_TRUE(token.id_token.empty());
  EXPECT_FALSE(token.refresh_expiry.has_value());  // SimpleIdServer sends no refresh_expires_in
}

TEST_F(Seed002SimpleIdServer, ClientCredentialsAlsoAcceptedWithClientSecretBasic) {
  auto cfg = config(LocalProvider::kSidDeviceClientId, LocalProvider::kSidDeviceClientSecret);
  cfg.auth_method = ClientAuthMethod::client_secret_basic;
  const Client client(cfg);
  const auto token = client.client_credentials({"networks"});

  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Authorization"), "Basic ZGV2aWNlOnBhc3N3b3Jk");  // device:password
  const Params expected{{"grant_type", "client_credentials"}, {"scope", "networks"}};
  EXPECT_EQ(requests[0].form, expected);
  EXPECT_EQ(token.scope, "networks");
}

TEST_F(Seed002SimpleIdServer, PasswordGrantWithOpenIdScopeReturnsIdAndRefreshTokens) {
  const Client client(config(LocalProvider::kSidUserDeviceClientId, LocalProvider::kSidUserDeviceClientSecret));
  const auto token = client.password(str(LocalProvider::kAdministratorUsername),
                                     str(LocalProvider::kAdministratorPassword), {"openid profile"});

  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  expect_form_post_headers(r);
  const Params expected{{"grant_type", "password"},
                        {"username", "administrator"},
                        {"password", "password"},
                        {"scope", "openid profile"},
                        {"client_id", "userDevice"},
                        {"client_secret", "password"}};
  EXPECT_EQ(r.form, expected);
  // The document shows the scope with a raw space; RFC 6749 Appendix B encodes it ('+').
  EXPECT_NE(r.body.find("&scope=openid+profile&"), std::string::npos) << r.body;
  EXPECT_EQ(sorted_names(r.form),
            sorted_names(oidc::detail::form_decode(seeds::kSeed002PasswordRequestBodyTemplate)));

  EXPECT_FALSE(token.id_token.empty());
  EXPECT_EQ(std::count(token.id_token.expose().begin(), token.id_token.expose().end(), '.'), 2);
  ASSERT_TRUE(token.has_refresh_token());
  EXPECT_TRUE(is_uuid(token.refresh_token.expose())) << "SimpleIdServer refresh tokens are opaque UUIDs";
  EXPECT_EQ(token.scope, "openid profile");
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(*token.expiry, clock->now() + 1800s);
  EXPECT_FALSE(token.refresh_expiry.has_value());
  EXPECT_FALSE(token.extra.contains("id_token"));
  EXPECT_FALSE(token.extra.contains("refresh_token"));

  // The refresh token works with the same confidential client.
  const auto refreshed = client.refresh(token);
  const auto all = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(all.size(), 2u);
  const Params refresh_expected{{"grant_type", "refresh_token"},
                                {"refresh_token", token.refresh_token.expose()},
                                {"client_id", "userDevice"},
                                {"client_secret", "password"}};
  EXPECT_EQ(all[1].form, refresh_expected);
  EXPECT_FALSE(refreshed.access_token.equals(token.access_token.expose()));
  EXPECT_FALSE(refreshed.refresh_token.equals(token.refresh_token.expose()));
  EXPECT_FALSE(refreshed.id_token.empty());
}

TEST_F(Seed002SimpleIdServer, DeviceFlowReplaysTheDocumentedResponsesVerbatim) {
  provider.enqueue(LocalProvider::sid_device_path(),
                   LocalProvider::Response::json(200, str(seeds::kSeed002DeviceAuthorizationResponse)));
  provider.enqueue(LocalProvider::sid_token_path(),
                   LocalProvider::Response::json(200, str(seeds::kSeed002DeviceTokenResponse)));
  const Client client(config(LocalProvider::kSidDeviceClientId, LocalProvider::kSidDeviceClientSecret));

  const auto start = clock->now();
  const auto authorization = client.device_authorization({"openid profile"});
  EXPECT_TRUE(authorization.device_code.equals(seeds::kSeed002DeviceCode));
  EXPECT_EQ(authorization.user_code, seeds::kSeed002UserCode);
  EXPECT_EQ(authorization.verification_uri, "https://localhost:5001/master/Device");
  EXPECT_EQ(authorization.verification_uri_complete, "https://localhost:5001/master/Device?userCode=7096");
  EXPECT_EQ(authorization.expires_in, 600s);
  EXPECT_EQ(authorization.interval, 5s);
  EXPECT_EQ(authorization.expires_at, start + 600s);

  const auto device_requests = provider.requests(LocalProvider::sid_device_path());
  ASSERT_EQ(device_requests.size(), 1u);
  expect_form_post_headers(device_requests[0]);
  // The document's example omits client_secret, but "device" is a confidential client that sends
  // it when polling; RFC 8628 §3.1 / RFC 6749 §2.3.1 require it to authenticate here too.
  const Params device_expected{{"scope", "openid profile"}, {"client_id", "device"}, {"client_secret", "password"}};
  EXPECT_EQ(device_requests[0].form, device_expected);

  const auto token = client.poll_device_token(authorization);
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s}));
  const auto token_requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(token_requests.size(), 1u);
  expect_form_post_headers(token_requests[0]);
  const Params token_expected{{"grant_type", kDeviceGrantType},
                              {"device_code", str(seeds::kSeed002DeviceCode)},
                              {"client_id", "device"},
                              {"client_secret", "password"}};
  EXPECT_EQ(token_requests[0].form, token_expected);
  EXPECT_EQ(sorted_names(token_requests[0].form),
            sorted_names(oidc::detail::form_decode(seeds::kSeed002DeviceTokenRequestBodyTemplate)));

  const auto seed = nlohmann::json::parse(seeds::kSeed002DeviceTokenResponse);
  EXPECT_EQ(token.access_token.expose(), seed["access_token"].get<std::string>());
  EXPECT_EQ(token.id_token.expose(), seed["id_token"].get<std::string>());
  EXPECT_EQ(token.refresh_token.expose(), "5e63301c-e320-49aa-a9cf-959e26bfd818");
  EXPECT_EQ(token.token_type, "Bearer");
  EXPECT_EQ(token.scope, "openid profile");
  // expires_in (1800) wins over the JWT's exp claim (a 2023 timestamp).
  EXPECT_EQ(*token.expiry, start + 5s + 1800s);
  EXPECT_FALSE(token.refresh_expiry.has_value());
  EXPECT_EQ(token.extra, nlohmann::json({{"expires_in", 1800}, {"scope", "openid profile"}, {"token_type", "Bearer"}}));
}

TEST_F(Seed002SimpleIdServer, DeviceFlowAgainstTheProviderIssuesIdToken) {
  const Client client(config(LocalProvider::kSidDeviceClientId, LocalProvider::kSidDeviceClientSecret));
  const auto authorization = client.device_authorization({"openid profile"});

  EXPECT_EQ(authorization.user_code.size(), 4u);  // SimpleIdServer: 4-digit user codes
  EXPECT_TRUE(is_uuid(authorization.device_code.expose()));
  EXPECT_EQ(authorization.verification_uri, provider.base_url() + "/master/Device");
  EXPECT_EQ(authorization.verification_uri_complete,
            provider.base_url() + "/master/Device?userCode=" + authorization.user_code);
  EXPECT_EQ(authorization.expires_in, 600s);
  EXPECT_EQ(authorization.interval, 5s);

  std::vector<DevicePollProgress> progress;
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress& p) {
    progress.push_back(p);
    if (p.polls == 1) {
      EXPECT_TRUE(provider.approve(authorization.user_code, LocalProvider::kAdministratorUsername));
    }
  };
  const auto token = client.poll_device_token(authorization, options);

  ASSERT_EQ(progress.size(), 1u);
  EXPECT_FALSE(progress[0].slow_down);
  EXPECT_EQ(clock->sleeps(), (std::vector<FakeClock::duration>{5s, 5s}));
  const auto polls = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(polls.size(), 2u);
  for (const auto& r : polls) {
    expect_form_post_headers(r);
    const Params expected{{"grant_type", kDeviceGrantType},
                          {"device_code", authorization.device_code.expose()},
                          {"client_id", "device"},
                          {"client_secret", "password"}};
    EXPECT_EQ(r.form, expected);
  }

  EXPECT_FALSE(token.id_token.empty());
  EXPECT_TRUE(is_uuid(token.refresh_token.expose()));
  EXPECT_EQ(token.scope, "openid profile");
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(*token.expiry, clock->now() + 1800s);

  // "device" may also refresh.
  const auto refreshed = client.refresh(token);
  EXPECT_FALSE(refreshed.access_token.equals(token.access_token.expose()));
  const auto all = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(all.size(), 3u);
  const Params refresh_expected{{"grant_type", "refresh_token"},
                                {"refresh_token", token.refresh_token.expose()},
                                {"client_id", "device"},
                                {"client_secret", "password"}};
  EXPECT_EQ(all[2].form, refresh_expected);
}

TEST_F(Seed002SimpleIdServer, AuthorizationCodeReplaysTheDocumentedExchange) {
  // The document's callback, code and session_state included, for the administrator it shows.
  provider.script_next_authorization({str(seeds::kSeed002AuthorizationCode), "",
                                      "AVinZKQq4XTdDezZKi0rJFT9Zs2ikPgr7FZTFMyxuQA.9057a6c7-1d3c-42df-83d2-a47c14e288d0"});
  provider.set_authorization_user(str(LocalProvider::kAdministratorUsername));
  const Client client(website());
  auto request = client.authorization_request(seed_options());
  const auto nonce = request.nonce();
  // Beyond the document's parameters the library adds a nonce (OpenID Connect, scope openid) and
  // PKCE S256 (RFC 9700 §2.1.1): SimpleIdServer accepts both; the document shows neither.
  const auto callback = browse(request.url());
  expect_seed_request(request.url(), seeds::kSeed002AuthorizationCodeRequestQuery,
                      {"code_challenge", "code_challenge_method", "nonce"});
  EXPECT_EQ(callback, seeds::kSeed002AuthorizationCodeCallbackUrl);  // character for character
  // Its extra members, as the library reads them (token_type in a code response is SimpleIdServer's own).
  const auto parsed = oidc::parse_authorization_response(callback, {"1234567890", client.config().issuer, false});
  EXPECT_TRUE(parsed.code.equals(seeds::kSeed002AuthorizationCode));
  EXPECT_EQ(parsed.session_state, "AVinZKQq4XTdDezZKi0rJFT9Zs2ikPgr7FZTFMyxuQA.9057a6c7-1d3c-42df-83d2-a47c14e288d0");
  EXPECT_EQ(parsed.extra, (Params{{"token_type", "Bearer"}}));
  EXPECT_TRUE(parsed.iss.empty());

  const auto token = client.exchange_code(std::move(request), callback);

  // The document's token request, client_secret in the body (client_secret_post), field by field;
  // the provider checked each (client, code, redirect_uri, PKCE) before answering.
  const auto requests = provider.requests(LocalProvider::sid_token_path());
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  expect_form_post_headers(r);
  const auto seed_form = oidc::detail::form_decode(seeds::kSeed002AuthorizationCodeTokenRequestBodyTemplate);
  auto expected_names = sorted_names(seed_form);
  expected_names.push_back("code_verifier");  // PKCE, which the document's request has not
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(sorted_names(r.form), expected_names);
  EXPECT_EQ(r.form_value("client_id"), "website");
  EXPECT_EQ(r.form_value("client_secret"), "password");
  EXPECT_EQ(r.form_value("grant_type"), "authorization_code");
  EXPECT_EQ(r.form_value("code"), str(seeds::kSeed002AuthorizationCode));  // the template's <authorization code>
  // The document's token request says redirect_uri=http://localhost while its authorization request
  // used https://your-app.com/callback. RFC 6749 §4.1.3 requires the two to be identical (and the
  // provider answers invalid_grant otherwise), so the RFC is followed, not the document.
  EXPECT_EQ(r.form_value("redirect_uri"), "https://your-app.com/callback");
  EXPECT_EQ(value_of(seed_form, "redirect_uri"), "http://localhost");
  EXPECT_EQ(r.form_value("code_verifier")->size(), 43u);
  EXPECT_TRUE(provider.authorization_code(seeds::kSeed002AuthorizationCode)->redeemed);

  // SimpleIdServer's token response: id_token (openid) with the request's nonce, an opaque UUID
  // refresh token, 1800 s.
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(token.scope, "openid profile");
  EXPECT_EQ(*token.expiry, clock->now() + 1800s);
  EXPECT_FALSE(token.refresh_expiry.has_value());
  EXPECT_TRUE(is_uuid(token.refresh_token.expose()));
  ASSERT_FALSE(token.id_token.empty());
  const auto payload = jwt_payload(token.id_token.expose());
  EXPECT_EQ(payload["nonce"], nonce);
  EXPECT_EQ(payload["sub"], "administrator");
  EXPECT_EQ(payload["iss"], provider.sid_issuer());

  // "If the access token expires, the client application can use the refresh token".
  const auto source = client.token_source(token);
  clock->advance(1801s);
  EXPECT_FALSE(source->token()->access_token.equals(token.access_token.expose()));
  EXPECT_EQ(provider.requests(LocalProvider::sid_token_path()).size(), 2u);
}

TEST_F(Seed002SimpleIdServer, ImplicitReplaysTheDocumentedFragment) {
  provider.script_next_authorization(
      {"", str(seeds::kSeed002ImplicitAccessToken),
       "oJK5q8N1SnWeXGsLxRdSmpZiIKSgnJn1D7enzyA6_xE.c5ea6702-2d7a-4f2f-8687-c0618545d973"});
  provider.set_authorization_user(str(LocalProvider::kAdministratorUsername));
  const Client client(website());
  auto request = client.implicit_request(seed_options());
  // A nonce beyond the document's parameters (scope openid); no PKCE: it has no place in implicit.
  const auto callback = browse(request.url());
  expect_seed_request(request.url(), seeds::kSeed002ImplicitRequestQuery, {"nonce"});
  EXPECT_EQ(callback, "https://your-app.com/callback#" + str(seeds::kSeed002ImplicitRedirectFragment));
  const auto token = client.implicit_token(std::move(request), callback);
  EXPECT_EQ(token.access_token.expose(), seeds::kSeed002ImplicitAccessToken);
  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_FALSE(token.has_refresh_token());
  EXPECT_EQ(token.extra.value("session_state", ""),
            "oJK5q8N1SnWeXGsLxRdSmpZiIKSgnJn1D7enzyA6_xE.c5ea6702-2d7a-4f2f-8687-c0618545d973");
  // No expires_in in the document's fragment, and its JWT's exp (2023) lies before the clock.
  EXPECT_FALSE(token.expiry);
  EXPECT_TRUE(provider.requests(LocalProvider::sid_token_path()).empty()) << "implicit: no token endpoint";
}

TEST_F(Seed002SimpleIdServer, ImplicitDenialIsTypedAccessDeniedFromTheFragment) {
  provider.set_authorization_denied(true, "administrator did not consent");
  const Client client(website());
  auto request = client.implicit_request(seed_options());
  const auto callback = browse(request.url());
  EXPECT_EQ(callback.rfind("https://your-app.com/callback#error=access_denied&", 0), 0u) << callback;
  const auto e = oidc_testing::error_of([&] { (void)client.implicit_token(std::move(request), callback); });
  EXPECT_EQ(e.code(), oidc::errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_TRUE(oidc_testing::is_clean(e, {str(LocalProvider::kSidWebsiteClientSecret)}));
}
