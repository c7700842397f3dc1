// The authorization code flow end to end: Client::authorization_request builds the URL, the test
// plays the browser (one GET with libcurl, redirects not followed, the Location taken as the
// server sent it), and Client::exchange_code redeems the code over the real libcurl transport.
// The LocalProvider checks every step (PKCE with its own SHA-256, redirect_uri identity, single
// use), so a success here is the provider's verdict, not only the library's.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "local_provider.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/base64.hpp"
#include "oidc/loopback.hpp"
#include "provider_fixture.hpp"
#include "redirect_browser.hpp"

using namespace std::chrono_literals;
using oidc::AuthorizationOptions;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Params;
using oidc_testing::error_of;
using oidc_testing::FormFields;
using oidc_testing::is_clean;
using oidc_testing::LocalProvider;
using oidc_testing::RecordedRequest;
using oidc_testing::str;
namespace lp = oidc_testing::local_provider_detail;

namespace {

// A loopback redirect with a port, as a native app's listener would have (RFC 8252 §7.3).
constexpr const char* kRedirect = "http://127.0.0.1:8400/callback";

std::string value(const FormFields& fields, std::string_view name) {
  const auto* v = lp::find_field(fields, name);
  return v ? *v : "<absent>";
}

// The query of a URL or request target, parsed as strictly as the provider parses it.
FormFields query_of(const std::string& url) {
  FormFields out;
  std::string problem;
  const auto q = url.find('?');
  EXPECT_NE(q, std::string::npos) << url;
  if (q != std::string::npos) {
    EXPECT_TRUE(lp::parse_form(url.substr(q + 1), out, problem)) << problem;
  }
  return out;
}

nlohmann::json jwt_payload(const std::string& jwt) {
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  std::string b64 = jwt.substr(first + 1, second - first - 1);
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  return nlohmann::json::parse(*lp::base64_decode(b64));
}

class AuthorizationCodeFlow : public oidc_testing::ProviderFixture {
 protected:
  // exchange_code validates ID tokens, whose iat and exp are the provider's real time: the fake
  // clock starts there.
  AuthorizationCodeFlow() { clock->set(std::chrono::system_clock::now()); }

  // web-app: a public client that must use PKCE.
  ClientConfig web_app() const {
    ClientConfig c;
    c.issuer = provider.issuer();
    c.authorization_endpoint = provider.authorization_endpoint();
    c.token_endpoint = provider.token_endpoint();
    c.jwks_uri = provider.jwks_endpoint();  // exchange_code validates the ID token (and its nonce)
    c.client_id = str(LocalProvider::kWebAppClientId);
    c.auth_method = ClientAuthMethod::none;
    c.transport = oidc::make_curl_transport();
    c.clock = clock;
    return c;
  }
  // portal: a confidential client (HTTP Basic by default).
  ClientConfig portal(ClientAuthMethod method = ClientAuthMethod::client_secret_basic) const {
    ClientConfig c = web_app();
    c.client_id = str(LocalProvider::kPortalClientId);
    c.client_secret = str(LocalProvider::kPortalClientSecret);
    c.auth_method = method;
    return c;
  }
  // The endpoints and the RFC 9207 declaration from the provider's metadata, read by hand (the
  // tests of Client::discover are in openid_connect_test.cpp).
  ClientConfig discovered(ClientConfig c) const {
    httplib::Client cli(provider.base_url());
    const auto res = cli.Get(LocalProvider::discovery_path().c_str());
    EXPECT_TRUE(res && res->status == 200);
    const auto md = nlohmann::json::parse(res->body);
    c.issuer = md.at("issuer");
    c.authorization_endpoint = md.at("authorization_endpoint");
    c.token_endpoint = md.at("token_endpoint");
    c.authorization_response_iss_parameter_supported = md.at("authorization_response_iss_parameter_supported");
    return c;
  }
  static AuthorizationOptions options(std::string scope = "openid profile") {
    AuthorizationOptions o;
    o.redirect_uri = kRedirect;
    o.scope = std::move(scope);
    return o;
  }

  // The user's browser: where the provider sends it back to.
  std::string browse(const std::string& url) const {
    const auto page = oidc_testing::browser_get(url);
    EXPECT_EQ(page.status, 302) << page.body;
    EXPECT_EQ(page.location.rfind(kRedirect, 0), 0u) << page.location;
    return page.location;
  }

  std::vector<RecordedRequest> token_requests() const { return provider.requests(LocalProvider::token_path()); }
};

}  // namespace

TEST_F(AuthorizationCodeFlow, PublicClientWithPkceS256VerifiedByTheProvider) {
  const Client client(web_app());
  auto request = client.authorization_request(options());
  const auto state = request.state(), nonce = request.nonce();
  const auto callback = browse(request.url());

  // What the browser carried: the library's parameters, decoded strictly by the provider.
  const auto gets = provider.requests(LocalProvider::authorization_path());
  ASSERT_EQ(gets.size(), 1u);
  const auto sent = query_of(gets[0].target);
  EXPECT_EQ(value(sent, "response_type"), "code");
  EXPECT_EQ(value(sent, "client_id"), "web-app");
  EXPECT_EQ(value(sent, "redirect_uri"), kRedirect);
  EXPECT_EQ(value(sent, "scope"), "openid profile");
  EXPECT_EQ(value(sent, "state"), state);
  EXPECT_EQ(value(sent, "nonce"), nonce);
  EXPECT_EQ(value(sent, "code_challenge_method"), "S256");
  EXPECT_EQ(value(sent, "code_verifier"), "<absent>");

  const auto received = query_of(callback);
  EXPECT_EQ(value(received, "iss"), provider.issuer());
  const auto code = value(received, "code");
  const auto issued = provider.authorization_code(code);
  ASSERT_TRUE(issued);
  EXPECT_EQ(issued->code_challenge, value(sent, "code_challenge"));
  EXPECT_EQ(issued->code_challenge_method, "S256");
  EXPECT_EQ(issued->nonce, nonce);

  const auto token = client.exchange_code(std::move(request), callback);

  const auto exchanges = token_requests();
  ASSERT_EQ(exchanges.size(), 1u);
  oidc_testing::expect_library_form_post(exchanges[0]);
  EXPECT_FALSE(exchanges[0].has_header("Authorization"));
  const auto& form = exchanges[0].form;
  ASSERT_EQ(form.size(), 5u);
  EXPECT_EQ(form[0], (std::pair<std::string, std::string>{"grant_type", "authorization_code"}));
  EXPECT_EQ(value(form, "code"), code);
  EXPECT_EQ(value(form, "redirect_uri"), kRedirect);  // identical to the request's (RFC 6749 §4.1.3)
  EXPECT_EQ(value(form, "client_id"), "web-app");
  // The provider accepted it, so BASE64URL(SHA256(verifier)) matched; checked here once more.
  const auto digest = lp::sha256(value(form, "code_verifier"));
  EXPECT_EQ(lp::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()), true),
            issued->code_challenge);
  EXPECT_TRUE(provider.authorization_code(code)->redeemed);

  EXPECT_EQ(token.type(), "Bearer");
  EXPECT_EQ(token.scope, "openid profile");
  EXPECT_TRUE(token.has_refresh_token());
  EXPECT_EQ(*token.expiry, clock->now() + 300s);
  ASSERT_FALSE(token.id_token.empty());
  EXPECT_EQ(jwt_payload(token.id_token.expose())["nonce"], nonce);
  EXPECT_EQ(jwt_payload(token.access_token.expose())["sub"], "alice");
}

TEST_F(AuthorizationCodeFlow, PlainPkceOnRequestIsVerifiedToo) {
  const Client client(web_app());
  auto o = options();
  o.pkce_method = oidc::PkceMethod::plain;
  auto request = client.authorization_request(o);
  const auto callback = browse(request.url());
  EXPECT_EQ(provider.authorization_code(value(query_of(callback), "code"))->code_challenge_method, "plain");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(request), callback));
}

TEST_F(AuthorizationCodeFlow, ConfidentialClientWithResourceIndicators) {
  const Client client(portal());
  auto o = options("profile");
  o.resource = {"https://api.example.com", "https://files.example.com"};
  auto request = client.authorization_request(o);
  const auto callback = browse(request.url());
  EXPECT_EQ(provider.authorization_code(value(query_of(callback), "code"))->resources, o.resource);
  const auto token = client.exchange_code(std::move(request), callback);

  const auto exchanges = token_requests();
  ASSERT_EQ(exchanges.size(), 1u);
  EXPECT_EQ(exchanges[0].header("Authorization"),
            "Basic " + lp::base64_encode("portal:portal-secret", false));
  std::vector<std::string> resources;
  for (const auto& [name, v] : exchanges[0].form)
    if (name == "resource") resources.push_back(v);
  EXPECT_EQ(resources, o.resource);  // RFC 8707 §2.2: repeated in the exchange, one parameter each
  EXPECT_EQ(jwt_payload(token.access_token.expose())["aud"], nlohmann::json(o.resource));
  EXPECT_TRUE(token.id_token.empty()) << "no openid, no id_token";
}

TEST_F(AuthorizationCodeFlow, PushedAuthorizationRequestWithEachClientAuthentication) {
  for (const auto method :
       {ClientAuthMethod::client_secret_basic, ClientAuthMethod::client_secret_post, ClientAuthMethod::none}) {
    SCOPED_TRACE(static_cast<int>(method));
    auto cfg = method == ClientAuthMethod::none ? web_app() : portal(method);
    cfg.pushed_authorization_request_endpoint = provider.par_endpoint();
    const Client client(cfg);
    auto request = client.authorization_request(options());
    ASSERT_TRUE(request.pushed());

    const auto pushes = provider.requests(LocalProvider::par_path());
    ASSERT_FALSE(pushes.empty());
    const auto& push = pushes.back();
    oidc_testing::expect_library_form_post(push);
    const auto& pushed = push.form;
    // RFC 9126 §2.1: client_id is in the body whatever the authentication, exactly once.
    EXPECT_EQ(value(pushed, "client_id"), cfg.client_id);
    EXPECT_EQ(std::count_if(pushed.begin(), pushed.end(), [](const auto& f) { return f.first == "client_id"; }), 1);
    EXPECT_EQ(value(pushed, "state"), request.state());
    EXPECT_EQ(value(pushed, "code_challenge_method"), "S256");
    EXPECT_EQ(value(pushed, "client_secret"),
              method == ClientAuthMethod::client_secret_post ? "portal-secret" : "<absent>");
    EXPECT_EQ(push.has_header("Authorization"), method == ClientAuthMethod::client_secret_basic);

    // The browser carries only the reference.
    const auto q = query_of(request.url());
    ASSERT_EQ(q.size(), 2u);
    EXPECT_EQ(value(q, "client_id"), cfg.client_id);
    EXPECT_EQ(value(q, "request_uri").rfind("urn:ietf:params:oauth:request_uri:", 0), 0u);

    const auto url = request.url();
    const auto callback = browse(url);
    const auto token = client.exchange_code(std::move(request), callback);
    EXPECT_FALSE(token.id_token.empty());
    // One-time (RFC 9126 §4): the same URL again gets the provider's error page, no code.
    const auto reload = oidc_testing::browser_get(url);
    EXPECT_EQ(reload.status, 400);
    EXPECT_TRUE(reload.location.empty());
  }
}

TEST_F(AuthorizationCodeFlow, IssuerFromMetadataIsRequiredAndChecked) {
  const Client client(discovered(web_app()));
  ASSERT_TRUE(client.config().authorization_response_iss_parameter_supported);
  auto request = client.authorization_request(options());
  // The callback first: the argument order of a call is unspecified (clang moves `request` first).
  const auto first = browse(request.url());
  EXPECT_NO_THROW((void)client.exchange_code(std::move(request), first));

  // Mix-up (RFC 9207 §2.4): a response from another issuer than the one this client talks to.
  auto other = discovered(web_app());
  other.issuer = provider.issuer(LocalProvider::kVyoptaRealm);
  const Client mixed_up(other);
  request = mixed_up.authorization_request(options());
  const auto callback = browse(request.url());
  const auto e = error_of([&] { (void)mixed_up.exchange_code(std::move(request), callback); });
  EXPECT_EQ(e.code(), errc::issuer_mismatch);
  EXPECT_TRUE(is_clean(e, {value(query_of(callback), "code")}));
  EXPECT_EQ(token_requests().size(), 1u) << "the code never went to the token endpoint";
}

TEST_F(AuthorizationCodeFlow, IssAbsentAndNotDeclaredIsAccepted) {
  provider.set_authorization_response_iss(false);
  const Client client(discovered(web_app()));
  EXPECT_FALSE(client.config().authorization_response_iss_parameter_supported);
  auto request = client.authorization_request(options());
  const auto callback = browse(request.url());
  EXPECT_EQ(value(query_of(callback), "iss"), "<absent>");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(request), callback));
}

TEST_F(AuthorizationCodeFlow, IssDeclaredButAbsentIsRefusedBeforeTheExchange) {
  provider.set_authorization_response_iss(false);
  provider.set_advertise_authorization_response_iss(true);
  const Client client(discovered(web_app()));
  ASSERT_TRUE(client.config().authorization_response_iss_parameter_supported);
  auto request = client.authorization_request(options());
  const auto callback = browse(request.url());
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), callback); });
  EXPECT_EQ(e.code(), errc::issuer_mismatch);
  EXPECT_TRUE(is_clean(e, {value(query_of(callback), "code")}));
  EXPECT_TRUE(token_requests().empty());
}

TEST_F(AuthorizationCodeFlow, UserDenialIsTypedAccessDenied) {
  provider.set_authorization_denied(true, "Alice refused access to her profile");
  const Client client(portal());
  auto request = client.authorization_request(options());
  const auto callback = browse(request.url());
  const auto e = error_of([&] { (void)client.exchange_code(std::move(request), callback); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_EQ(e.oauth()->error_description, "Alice refused access to her profile");
  EXPECT_TRUE(is_clean(e, {str(LocalProvider::kPortalClientSecret)}));
  EXPECT_TRUE(token_requests().empty());
}

TEST_F(AuthorizationCodeFlow, AWrongStateNeverReachesTheTokenEndpoint) {
  const Client client(web_app());
  auto first = client.authorization_request(options());
  auto second = client.authorization_request(options());
  const auto first_callback = browse(first.url());
  const auto code = value(query_of(first_callback), "code");

  // Another login's response (CSRF, RFC 6749 §10.12), and one whose state was tampered with.
  auto e = error_of([&] { (void)client.exchange_code(std::move(second), first_callback); });
  EXPECT_EQ(e.code(), errc::state_mismatch);
  EXPECT_TRUE(is_clean(e, {code}));
  auto tampered = first_callback;
  tampered.replace(tampered.find("state=") + 6, 4, "XXXX");
  e = error_of([&] { (void)client.exchange_code(std::move(first), tampered); });
  EXPECT_EQ(e.code(), errc::state_mismatch);
  EXPECT_TRUE(is_clean(e, {code}));

  EXPECT_TRUE(token_requests().empty());
  EXPECT_FALSE(provider.authorization_code(code)->redeemed);
}

TEST_F(AuthorizationCodeFlow, AReplayedCodeIsInvalidGrantAndRevokesTheFirstLogin) {
  const Client client(web_app());
  auto request = client.authorization_request(options());
  const auto callback = browse(request.url());
  const auto code = value(query_of(callback), "code");
  const auto token = client.exchange_code(std::move(request), callback);

  // An attacker who saw the code tries it with a request of its own (its state, its verifier).
  auto replay = client.authorization_request(options());
  const std::string forged = std::string(kRedirect) + "?state=" + replay.state() + "&code=" + code;
  const auto e = error_of([&] { (void)client.exchange_code(std::move(replay), forged); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_grant");
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_TRUE(is_clean(e, {code, token.refresh_token.expose()}));
  EXPECT_EQ(token_requests().size(), 2u);

  // RFC 6749 §4.1.2: the provider revoked what the code had yielded; renewal needs a new login.
  const auto source = client.token_source(token);
  source->invalidate();
  const auto renewal = error_of([&] { (void)source->token(); });
  EXPECT_EQ(renewal.code(), errc::interaction_required);
  EXPECT_TRUE(is_clean(renewal, {code, token.refresh_token.expose()}));
}

TEST_F(AuthorizationCodeFlow, TheCodeFlowsTokenRefreshesThroughTokenSource) {
  const Client client(portal(ClientAuthMethod::client_secret_post));
  auto request = client.authorization_request(options());
  const auto callback = browse(request.url());  // before the move: argument order is unspecified
  const auto token = client.exchange_code(std::move(request), callback);
  const auto source = client.token_source(token);
  EXPECT_TRUE(source->token()->access_token.equals(token.access_token.expose()));
  EXPECT_EQ(token_requests().size(), 1u);

  clock->advance(301s);  // the access token (300 s) expired; the refresh token (1800 s) did not
  const auto renewed = source->token();
  EXPECT_FALSE(renewed->access_token.equals(token.access_token.expose()));
  EXPECT_FALSE(renewed->id_token.empty());
  const auto exchanges = token_requests();
  ASSERT_EQ(exchanges.size(), 2u);
  EXPECT_EQ(exchanges[1].form, (Params{{"grant_type", "refresh_token"},
                                       {"refresh_token", token.refresh_token.expose()},
                                       {"client_id", "portal"},
                                       {"client_secret", "portal-secret"}}));
}

// The native-app flow end to end (RFC 8252): loopback_login binds the listener, the "browser"
// opens the provider's authorization URL, follows the provider's redirect to the listener (first
// sending a forged-state request there, which must not end the login), and the library exchanges
// the code the provider issued, PKCE verified by the provider.
TEST_F(AuthorizationCodeFlow, LoopbackLoginFollowsTheProvidersRedirectToTheListener) {
  if (!oidc::loopback_available()) GTEST_SKIP() << "built with OIDC_WITH_LOOPBACK=OFF";
  const Client client(discovered(web_app()));
  std::string redirect_uri;
  oidc::LoopbackOptions loopback;
  loopback.timeout = 20s;  // bounds a broken flow; the happy path takes milliseconds
  // A browser runs beside the application: loopback_login opens it, then waits.
  std::thread browser;
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join_browser{browser};  // also when loopback_login throws
  long forged_status = 0, done_status = 0;
  loopback.open_browser = [&](const std::string& url) {
    browser = std::thread([&, url] {
      const auto page = oidc_testing::browser_get(url);
      if (page.status != 302) return;
      redirect_uri = page.location.substr(0, page.location.find('?'));
      // Someone else's redirect first: refused by the listener, the login goes on.
      forged_status = oidc_testing::browser_get(redirect_uri + "?code=stolen&state=not-yours").status;
      done_status = oidc_testing::browser_get(page.location).status;
    });
  };
  AuthorizationOptions o;
  o.scope = "openid offline_access";
  const auto token = oidc::loopback_login(client, o, loopback);
  if (browser.joinable()) browser.join();
  EXPECT_EQ(redirect_uri.rfind("http://127.0.0.1:", 0), 0u) << redirect_uri;
  EXPECT_EQ(forged_status, 400);
  EXPECT_EQ(done_status, 200);
  EXPECT_FALSE(token.access_token.empty());
  EXPECT_TRUE(token.has_refresh_token());
  const auto exchanges = token_requests();
  ASSERT_EQ(exchanges.size(), 1u) << "the forged code never reached the token endpoint";
  const auto& form = exchanges[0].form;
  EXPECT_EQ(value(form, "redirect_uri"), redirect_uri) << "the listener's own redirect_uri, ephemeral port included";
  EXPECT_NE(value(form, "code_verifier"), "") << "PKCE";
}
