// The authorization code flow without a network: request URLs, PAR, the callback checks and the
// code exchange, against a scripted transport.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"

using oidc::AuthorizationOptions;
using oidc::Client;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Params;
using oidc_testing::error_of;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;

namespace {

constexpr const char* kIssuer = "https://auth.example.com";
constexpr const char* kRedirect = "http://127.0.0.1:8400/callback";

// The query parameters of a URL, decoded, in order.
Params query_of(const std::string& url) {
  const auto q = url.find('?');
  return q == std::string::npos ? Params{} : oidc::detail::form_decode(url.substr(q + 1));
}
std::string param(const Params& p, const std::string& name) {
  for (const auto& [n, v] : p)
    if (n == name) return v;
  return "<absent>";
}
std::size_t count(const Params& p, const std::string& name) {
  std::size_t n = 0;
  for (const auto& f : p) n += f.first == name;
  return n;
}

struct AuthorizationCodeTest : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();

  ClientConfig config(std::string secret = "s3cret") {
    ClientConfig c;
    c.issuer = kIssuer;
    c.authorization_endpoint = std::string(kIssuer) + "/authorize";
    c.token_endpoint = std::string(kIssuer) + "/token";
    c.client_id = "app";
    c.auth_method = secret.empty() ? oidc::ClientAuthMethod::none : oidc::ClientAuthMethod::client_secret_basic;
    c.client_secret = std::move(secret);
    c.transport = transport;
    c.clock = std::make_shared<oidc_testing::FakeClock>();
    // These scripted responses carry no ID token; what exchange_code does with one (validation,
    // the nonce, insisting on one for openid) is tested in integration/openid_connect_test.cpp
    // and in ExchangeInsistsOnAnIdTokenForOpenid below.
    c.validate_id_tokens = false;
    return c;
  }
  static AuthorizationOptions options(std::string scope = "openid profile") {
    AuthorizationOptions o;
    o.redirect_uri = kRedirect;
    o.scope = std::move(scope);
    return o;
  }
  static std::string callback(const oidc::AuthorizationRequest& r, const std::string& code = "c0de-1") {
    return std::string(kRedirect) + "?code=" + code + "&state=" + r.state() + "&iss=" + kIssuer;
  }
};

TEST_F(AuthorizationCodeTest, RequestUrlCarriesEveryParameterOnceWithPkceS256) {
  const Client client(config());
  auto o = options();
  o.resource = {"https://api.example.com", "https://files.example.com"};
  o.extra = {{"prompt", "consent"}, {"login_hint", "a b&c=d"}};
  const auto req = client.authorization_request(o);
  ASSERT_EQ(req.url().rfind(std::string(kIssuer) + "/authorize?", 0), 0u);
  const auto q = query_of(req.url());
  EXPECT_EQ(param(q, "response_type"), "code");
  EXPECT_EQ(param(q, "client_id"), "app");
  EXPECT_EQ(param(q, "redirect_uri"), kRedirect);
  EXPECT_EQ(param(q, "scope"), "openid profile");
  EXPECT_EQ(param(q, "state"), req.state());
  EXPECT_EQ(param(q, "nonce"), req.nonce());
  EXPECT_EQ(param(q, "code_challenge_method"), "S256");
  EXPECT_EQ(param(q, "code_challenge").size(), 43u);
  EXPECT_EQ(param(q, "prompt"), "consent");
  EXPECT_EQ(param(q, "login_hint"), "a b&c=d");
  EXPECT_EQ(count(q, "resource"), 2u);
  for (const char* name : {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge"})
    EXPECT_EQ(count(q, name), 1u) << name;
  // Exact encoding (RFC 6749 Appendix B): reserved characters escaped, space as '+'.
  EXPECT_NE(req.url().find("redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcallback"), std::string::npos);
  EXPECT_NE(req.url().find("login_hint=a+b%26c%3Dd"), std::string::npos);
  EXPECT_EQ(count(q, "code_verifier"), 0u) << "the verifier never goes to the browser";
  EXPECT_EQ(transport->request_count(), 0u);
  EXPECT_FALSE(req.pushed());
}

TEST_F(AuthorizationCodeTest, StateAndNonceAreFreshAndLongEnough) {
  const Client client(config());
  std::set<std::string> states, nonces;
  for (int i = 0; i < 32; ++i) {
    const auto req = client.authorization_request(options());
    EXPECT_GE(req.state().size(), 22u);  // >= 128 bits of base64url
    states.insert(req.state());
    nonces.insert(req.nonce());
  }
  EXPECT_EQ(states.size(), 32u);
  EXPECT_EQ(nonces.size(), 32u);
  EXPECT_TRUE(client.authorization_request(options("api:read")).nonce().empty()) << "nonce only with openid";
}

TEST_F(AuthorizationCodeTest, EndpointQueryIsKeptAndDuplicatesAreRefused) {
  auto c = config();
  c.authorization_endpoint = std::string(kIssuer) + "/authorize?tenant=t1";
  const auto req = Client(c).authorization_request(options());
  EXPECT_EQ(req.url().rfind(std::string(kIssuer) + "/authorize?tenant=t1&response_type=code&", 0), 0u);

  c.authorization_endpoint = std::string(kIssuer) + "/authorize?state=fixed";
  EXPECT_EQ(error_of([&] { (void)Client(c).authorization_request(options()); }).code(), errc::config);
  c.authorization_endpoint = std::string(kIssuer) + "/authorize#frag";
  EXPECT_EQ(error_of([&] { (void)Client(c).authorization_request(options()); }).code(), errc::config);

  const Client client(config());
  auto o = options();
  o.extra = {{"prompt", "login"}, {"prompt", "consent"}};
  EXPECT_EQ(error_of([&] { (void)client.authorization_request(o); }).code(), errc::config);
  for (const char* reserved : {"state", "client_id", "code_challenge", "redirect_uri", "response_type", "resource"}) {
    o.extra = {{reserved, "x"}};
    EXPECT_EQ(error_of([&] { (void)client.authorization_request(o); }).code(), errc::config) << reserved;
  }
}

TEST_F(AuthorizationCodeTest, BadRedirectUrisAreRefused) {
  const Client client(config());
  for (const char* bad : {"", "/callback", "http://127.0.0.1/cb#frag", "http://127.0.0.1/c b", "http://h/\r\n",
                          "1http://x/cb", ":nothing"}) {
    auto o = options();
    o.redirect_uri = bad;
    EXPECT_EQ(error_of([&] { (void)client.authorization_request(o); }).code(), errc::config) << bad;
  }
  auto o = options();
  o.redirect_uri = "com.example.app:/oauth2redirect";  // RFC 8252 §7.1 private-use scheme
  EXPECT_NO_THROW((void)client.authorization_request(o));
}

TEST_F(AuthorizationCodeTest, OwnValuesAreUsedAndPlainPkceOnlyOnRequest) {
  const Client client(config());
  auto o = options();
  o.state = "my-state-0123456789";
  o.nonce = "my-nonce-0123456789";
  o.pkce = oidc::pkce_from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  const auto req = client.authorization_request(o);
  const auto q = query_of(req.url());
  EXPECT_EQ(param(q, "state"), "my-state-0123456789");
  EXPECT_EQ(param(q, "nonce"), "my-nonce-0123456789");
  EXPECT_EQ(param(q, "code_challenge"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");  // RFC 7636 Appendix B

  auto p = options();
  p.pkce_method = oidc::PkceMethod::plain;
  EXPECT_EQ(param(query_of(client.authorization_request(p).url()), "code_challenge_method"), "plain");
}

TEST_F(AuthorizationCodeTest, ExchangeSendsCodeRedirectUriVerifierAndResources) {
  const Client client(config());
  auto o = options();
  o.pkce = oidc::pkce_from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  o.resource = {"https://api.example.com"};
  auto req = client.authorization_request(o);
  const auto cb = callback(req);
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"rt-1"})");
  const auto token = client.exchange_code(std::move(req), cb);
  EXPECT_EQ(token.access_token.expose(), "at-1");
  EXPECT_EQ(token.refresh_token.expose(), "rt-1");
  const auto sent = transport->last();
  EXPECT_EQ(sent.url, std::string(kIssuer) + "/token");
  const auto f = form_of(sent);
  EXPECT_EQ(param(f, "grant_type"), "authorization_code");
  EXPECT_EQ(param(f, "code"), "c0de-1");
  EXPECT_EQ(param(f, "redirect_uri"), kRedirect);
  EXPECT_EQ(param(f, "code_verifier"), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  EXPECT_EQ(param(f, "resource"), "https://api.example.com");
  EXPECT_EQ(param(f, "client_secret"), "<absent>") << "client_secret_basic: in the header only";
  EXPECT_EQ(sent.headers.get("Authorization").value_or(""), "Basic YXBwOnMzY3JldA==");
}

// Consumed by construction: the request is taken by value, so a second exchange needs a copy,
// which does not exist; a moved-from request is refused without contacting the server.
TEST_F(AuthorizationCodeTest, ARequestIsExchangedAtMostOnce) {
  static_assert(!std::is_copy_constructible_v<oidc::AuthorizationRequest>);
  const Client client(config());
  auto req = client.authorization_request(options());
  const auto cb = callback(req);
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  (void)client.exchange_code(std::move(req), cb);
  EXPECT_FALSE(req.usable());  // NOLINT(bugprone-use-after-move): that is the point
  EXPECT_EQ(error_of([&] { (void)client.exchange_code(std::move(req), cb); }).code(), errc::config);  // NOLINT
  EXPECT_EQ(transport->request_count(), 1u);
}

TEST_F(AuthorizationCodeTest, WrongOrMissingStateNeverReachesTheTokenEndpoint) {
  const Client client(config());
  for (const std::string& tail : {std::string("?code=c&iss=") + kIssuer, std::string("?code=c&state=other&iss=") + kIssuer,
                                  std::string("?code=c&state=&iss=") + kIssuer}) {
    auto req = client.authorization_request(options());
    const auto e = error_of([&] { (void)client.exchange_code(std::move(req), kRedirect + tail); });
    EXPECT_EQ(e.code(), errc::state_mismatch) << tail;
  }
  // An error response with someone else's state is not believed either.
  auto req = client.authorization_request(options());
  EXPECT_EQ(error_of([&] {
              (void)client.exchange_code(std::move(req), std::string(kRedirect) + "?error=access_denied&state=x");
            }).code(),
            errc::state_mismatch);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(AuthorizationCodeTest, IssuerIsComparedAndRequiredWhenTheServerSaysSo) {
  auto c = config();
  const Client client(c);
  auto req = client.authorization_request(options());
  const auto bad_iss = std::string(kRedirect) + "?code=c&state=" + req.state() + "&iss=https%3A%2F%2Fevil.example";
  EXPECT_EQ(error_of([&] { (void)client.exchange_code(std::move(req), bad_iss); }).code(), errc::issuer_mismatch);

  // Without authorization_response_iss_parameter_supported a missing iss is accepted (RFC 9207 §2.4).
  req = client.authorization_request(options());
  const auto no_iss = std::string(kRedirect) + "?code=c&state=" + req.state();
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(req), no_iss));
}

TEST_F(AuthorizationCodeTest, MissingIssIsRefusedWhenDeclared) {
  auto c = config();
  c.authorization_response_iss_parameter_supported = true;
  const Client client(c);
  auto req = client.authorization_request(options());
  const auto cb = std::string(kRedirect) + "?code=c&state=" + req.state();
  EXPECT_EQ(error_of([&] { (void)client.exchange_code(std::move(req), cb); }).code(), errc::issuer_mismatch);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(AuthorizationCodeTest, AnEmptyOrUnprintableIssIsNoIssuer) {
  // Found by the authorization_response fuzzer: a bare "&iss" counted as present where iss is
  // required, and with no issuer to compare with, any iss (control bytes too) was taken as sent.
  for (const std::string tail : {"&iss", "&iss=", "&iss=a%0Db", "&iss=%1B%5B2J"}) {
    for (const bool issuer_known : {true, false}) {
      oidc::AuthorizationResponseChecks checks;
      checks.state = "st-1";
      checks.issuer = issuer_known ? kIssuer : "";
      checks.iss_required = true;
      const auto e = error_of([&] { (void)oidc::parse_authorization_response("?code=c&state=st-1" + tail, checks); });
      EXPECT_EQ(e.code(), errc::issuer_mismatch) << tail;
      EXPECT_EQ(e.detail(), "the response's iss is empty or not printable text") << tail;
      checks.iss_required = false;
      EXPECT_EQ(error_of([&] { (void)oidc::parse_authorization_response("?code=c&state=st-1" + tail, checks); }).code(),
                errc::issuer_mismatch)
          << tail;
    }
  }
  oidc::AuthorizationResponseChecks checks;
  checks.state = "st-1";
  checks.iss_required = true;
  EXPECT_EQ(oidc::parse_authorization_response("?code=c&state=st-1&iss=https%3A%2F%2Fa.example", checks).iss,
            "https://a.example");
}

TEST_F(AuthorizationCodeTest, ServerErrorsAreTypedAndSanitised) {
  const Client client(config());
  auto req = client.authorization_request(options());
  const auto cb = std::string(kRedirect) + "?error=access_denied&error_description=No%1B%5B2J%0D%0Athanks&state=" +
                  req.state() + "&error_uri=javascript%3Aalert(1)";
  const auto e = error_of([&] { (void)client.exchange_code(std::move(req), cb); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_TRUE(e.oauth()->error_uri.empty()) << "a javascript: error_uri is dropped";
  EXPECT_TRUE(oidc_testing::is_clean(e, {}));
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(AuthorizationCodeTest, MalformedCallbacksAreParseErrors) {
  const Client client(config());
  const std::string big(40000, 'a');
  for (const std::string& tail :
       {std::string("?code=a&code=b&state=S"), std::string("?code=%zz&state=S"), std::string("?code=%4&state=S"),
        std::string("?state=S"), std::string("?code=a%0Ab&state=S"), std::string("?code=&state=S"),
        std::string("?code=") + big + "&state=S", std::string("#code=a&state=S"), std::string(""),
        std::string("?=x&code=a&state=S")}) {
    auto req = client.authorization_request(options());
    std::string cb = kRedirect + tail;
    const auto at = cb.find("state=S");
    if (at != std::string::npos) cb.replace(at, 7, "state=" + req.state());
    const auto e = error_of([&] { (void)client.exchange_code(std::move(req), cb); });
    EXPECT_EQ(e.code(), errc::parse) << tail.substr(0, 40) << ": " << e.what();
  }
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(AuthorizationCodeTest, QueryAloneIsAccepted) {
  const Client client(config());
  auto req = client.authorization_request(options());
  const std::string q = "code=abc&state=" + req.state();
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(req), "?" + q));
  req = client.authorization_request(options());
  const std::string bare = "code=abc&state=" + req.state();
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(req), bare));
}

// OIDC Core §3.1.3.3: the token response to an openid request carries an id_token. A response
// without one is refused (its nonce could not be checked), unless the scope had no openid.
TEST_F(AuthorizationCodeTest, ExchangeInsistsOnAnIdTokenForOpenid) {
  auto c = config();
  c.validate_id_tokens = true;
  c.issuer = "https://auth.example.com";
  const Client client(c);
  auto req = client.authorization_request(options());
  ASSERT_FALSE(req.nonce().empty());
  const std::string cb = kRedirect + std::string("?code=abc&state=") + req.state();
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  EXPECT_EQ(error_of([&] { (void)client.exchange_code(std::move(req), cb); }).code(), errc::missing_claim);

  auto o = options();
  o.scope = "api:read";
  req = client.authorization_request(o);
  const std::string cb2 = kRedirect + std::string("?code=abc&state=") + req.state();
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  EXPECT_NO_THROW((void)client.exchange_code(std::move(req), cb2));
}

TEST_F(AuthorizationCodeTest, PushedAuthorizationRequestSendsParametersAuthenticated) {
  auto c = config();
  c.pushed_authorization_request_endpoint = std::string(kIssuer) + "/par";
  const Client client(c);
  transport->push_json(201, R"({"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60})");
  const auto req = client.authorization_request(options());
  EXPECT_TRUE(req.pushed());
  const auto sent = transport->last();
  EXPECT_EQ(sent.url, std::string(kIssuer) + "/par");
  EXPECT_EQ(sent.headers.get("Authorization").value_or(""), "Basic YXBwOnMzY3JldA==");
  const auto f = form_of(sent);
  EXPECT_EQ(param(f, "response_type"), "code");
  EXPECT_EQ(param(f, "state"), req.state());
  EXPECT_EQ(param(f, "code_challenge_method"), "S256");
  // RFC 9126 §2.1: client_id is required in the body even though HTTP Basic names the client.
  EXPECT_EQ(param(f, "client_id"), "app");
  EXPECT_EQ(count(f, "client_id"), 1u);
  EXPECT_EQ(param(f, "client_secret"), "<absent>");
  const auto q = query_of(req.url());
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(param(q, "client_id"), "app");
  EXPECT_EQ(param(q, "request_uri"), "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c");
}

// With client_secret_post or no secret, client authentication itself puts client_id in the body:
// it must still appear exactly once, and the token endpoint keeps its usual form.
TEST_F(AuthorizationCodeTest, PushedAuthorizationRequestNamesTheClientOnceWhateverTheAuthentication) {
  for (const auto method : {oidc::ClientAuthMethod::client_secret_post, oidc::ClientAuthMethod::none}) {
    auto c = config(method == oidc::ClientAuthMethod::none ? "" : "s3cret");
    c.auth_method = method;
    c.pushed_authorization_request_endpoint = std::string(kIssuer) + "/par";
    const Client client(c);
    transport->push_json(201, R"({"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60})");
    auto req = client.authorization_request(options());
    const auto f = form_of(transport->last());
    EXPECT_EQ(count(f, "client_id"), 1u);
    EXPECT_EQ(param(f, "client_id"), "app");
    EXPECT_EQ(param(f, "client_secret"), method == oidc::ClientAuthMethod::none ? "<absent>" : "s3cret");
    EXPECT_FALSE(transport->last().headers.get("Authorization").has_value());
  }
  // The token endpoint with HTTP Basic: no client_id in the body, as before.
  auto c = config();
  c.pushed_authorization_request_endpoint = std::string(kIssuer) + "/par";
  const Client client(c);
  transport->push_json(201, R"({"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60})");
  auto req = client.authorization_request(options());
  const auto cb = callback(req);
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  (void)client.exchange_code(std::move(req), cb);
  EXPECT_EQ(count(form_of(transport->last()), "client_id"), 0u);
}

TEST_F(AuthorizationCodeTest, PushedAuthorizationRequestFailuresAndRequirement) {
  auto c = config();
  c.require_pushed_authorization_requests = true;
  EXPECT_EQ(error_of([&] { (void)Client(c).authorization_request(options()); }).code(), errc::config);

  c.pushed_authorization_request_endpoint = std::string(kIssuer) + "/par";
  const Client client(c);
  transport->push_json(400, R"({"error":"invalid_request","error_description":"bad"})");
  EXPECT_EQ(error_of([&] { (void)client.authorization_request(options()); }).oauth_code(), "invalid_request");
  for (const char* body : {R"({"expires_in":60})", R"({"request_uri":"urn:x y","expires_in":60})",
                           R"({"request_uri":"urn:x\r\nLocation: evil","expires_in":60})", R"({"request_uri":"urn:x"})",
                           R"({"request_uri":7,"expires_in":60})"}) {
    transport->push_json(201, body);
    EXPECT_EQ(error_of([&] { (void)client.authorization_request(options()); }).code(), errc::parse) << body;
  }
}

TEST_F(AuthorizationCodeTest, PublicClientSendsClientIdInTheExchange) {
  const Client client(config(""));
  auto req = client.authorization_request(options());
  const auto cb = callback(req);
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  (void)client.exchange_code(std::move(req), cb);
  EXPECT_EQ(param(form_of(transport->last()), "client_id"), "app");
}

}  // namespace
