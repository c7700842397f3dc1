#include "oidc/client.hpp"
#include "oidc/time_format.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Error;
using oidc::Params;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;
using oidc_testing::error_of;

namespace {

constexpr const char* kTokenUrl = "https://auth.example.com/realms/core/protocol/openid-connect/token";
constexpr const char* kOk = R"({"access_token":"at-1","token_type":"Bearer","expires_in":300})";

struct ClientFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  ClientConfig config(std::string secret = "s3cret", ClientAuthMethod method = ClientAuthMethod::client_secret_post) {
    ClientConfig c;
    c.token_endpoint = kTokenUrl;
    c.client_id = "svc";
    c.client_secret = std::move(secret);
    c.auth_method = method;
    c.transport = transport;
    c.clock = clock;
    return c;
  }

};

}  // namespace

TEST_F(ClientFixture, ClientCredentialsWithSecretPost) {
  transport->push_json(200, kOk);
  const Client client(config());
  const auto token = client.client_credentials({"networks"});
  EXPECT_EQ(token.authorization_header(), "Bearer at-1");
  EXPECT_EQ(*token.expiry, clock->now() + 300s);

  const auto req = transport->last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, kTokenUrl);
  EXPECT_EQ(req.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.headers.get("Accept"), "application/json");
  EXPECT_FALSE(req.headers.contains("Authorization"));
  const Params expected{{"grant_type", "client_credentials"},
                        {"scope", "networks"},
                        {"client_id", "svc"},
                        {"client_secret", "s3cret"}};
  EXPECT_EQ(form_of(req), expected);
}

TEST_F(ClientFixture, ClientSecretBasicEncodesBeforeBase64) {
  transport->push_json(200, kOk);
  auto cfg = config("p@ss w:rd", ClientAuthMethod::client_secret_basic);
  cfg.client_id = "my client";
  const Client client(cfg);
  (void)client.client_credentials();
  const auto req = transport->last();
  // base64("my+client:p%40ss+w%3Ard"), RFC 6749 §2.3.1.
  EXPECT_EQ(req.headers.get("Authorization"), "Basic bXkrY2xpZW50OnAlNDBzcyt3JTNBcmQ=");
  EXPECT_EQ(form_of(req), (Params{{"grant_type", "client_credentials"}}));
}

// Go's url.QueryEscape: RFC 3986 unreserved characters (~ included) pass, '*' does not.
TEST_F(ClientFixture, ClientSecretBasicLeavesUnreservedCharactersAlone) {
  transport->push_json(200, kOk);
  auto cfg = config("s~e*cret", ClientAuthMethod::client_secret_basic);
  cfg.client_id = "svc~1.a_b-c";
  const Client client(cfg);
  (void)client.client_credentials();
  // base64("svc~1.a_b-c:s~e%2Acret")
  EXPECT_EQ(transport->last().headers.get("Authorization"), "Basic c3ZjfjEuYV9iLWM6c35lJTJBY3JldA==");
  EXPECT_EQ(oidc::detail::basic_credential_encode("a b~*/"), "a+b~%2A%2F");
}

TEST_F(ClientFixture, PublicClientSendsOnlyClientId) {
  transport->push_json(200, kOk);
  const Client client(config("", ClientAuthMethod::client_secret_basic));
  (void)client.password("alice", "pw", {"email profile"});
  const auto req = transport->last();
  EXPECT_FALSE(req.headers.contains("Authorization"));
  const Params expected{{"grant_type", "password"},
                        {"username", "alice"},
                        {"password", "pw"},
                        {"scope", "email profile"},
                        {"client_id", "svc"}};
  EXPECT_EQ(form_of(req), expected);
}

TEST_F(ClientFixture, ExtraParametersAndHeadersAreSent) {
  transport->push_json(200, kOk);
  auto cfg = config();
  cfg.extra_headers.set("Host", "login.vyopta.com");
  const Client client(cfg);
  (void)client.client_credentials({"", {{"audience", "https://api"}, {"resource", "urn:r"}}});
  const auto req = transport->last();
  EXPECT_EQ(req.headers.get("host"), "login.vyopta.com");
  const Params expected{{"grant_type", "client_credentials"},
                        {"audience", "https://api"},
                        {"resource", "urn:r"},
                        {"client_id", "svc"},
                        {"client_secret", "s3cret"}};
  EXPECT_EQ(form_of(req), expected);
}

TEST_F(ClientFixture, ExtraParametersCannotOverrideClientAuthenticationOrRepeat) {
  const Client client(config());
  auto e = error_of([&] { (void)client.client_credentials({"", {{"client_id", "other"}}}); });
  EXPECT_EQ(e.code(), errc::config);
  e = error_of([&] { (void)client.client_credentials({"a", {{"scope", "b"}}}); });
  EXPECT_EQ(e.code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(ClientFixture, RefreshAdoptsRotatedRefreshToken) {
  transport->push_json(200, R"({"access_token":"at-2","expires_in":60,"refresh_token":"rt-2","refresh_expires_in":1800})");
  const Client client(config());
  oidc::Token old;
  old.access_token = "at-1";
  old.refresh_token = "rt-1";
  const auto fresh = client.refresh(old);
  EXPECT_EQ(fresh.access_token.expose(), "at-2");
  EXPECT_EQ(fresh.refresh_token.expose(), "rt-2");
  EXPECT_EQ(*fresh.refresh_expiry, clock->now() + 1800s);
  const Params expected{{"grant_type", "refresh_token"},
                        {"refresh_token", "rt-1"},
                        {"client_id", "svc"},
                        {"client_secret", "s3cret"}};
  EXPECT_EQ(form_of(transport->last()), expected);
}

TEST_F(ClientFixture, RefreshWithoutRotationKeepsOldRefreshToken) {
  transport->push_json(200, R"({"access_token":"at-2","expires_in":60})");
  const Client client(config());
  oidc::Token old;
  old.refresh_token = "rt-1";
  old.refresh_expiry = clock->now() + 100s;
  const auto fresh = client.refresh(old);
  EXPECT_EQ(fresh.refresh_token.expose(), "rt-1");
  EXPECT_EQ(fresh.refresh_expiry, old.refresh_expiry);
}

TEST_F(ClientFixture, ExpiredOrMissingRefreshTokenIsNotSent) {
  const Client client(config());
  oidc::Token old;
  EXPECT_EQ(error_of([&] { (void)client.refresh(old); }).code(), errc::interaction_required);
  old.refresh_token = "rt-1";
  old.refresh_expiry = clock->now();
  EXPECT_EQ(error_of([&] { (void)client.refresh(old); }).code(), errc::interaction_required);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(ClientFixture, TransportErrorsKeepTheirCodeAndNameTheOperation) {
  transport->push_error(Error(errc::connect, "POST " + std::string(kTokenUrl), "Connection refused"));
  const Client client(config());
  const auto e = error_of([&] { (void)client.client_credentials(); });
  EXPECT_EQ(e.code(), errc::connect);
  EXPECT_EQ(e.operation(), "token request (grant_type=client_credentials)");
  EXPECT_NE(std::string(e.what()).find("Connection refused"), std::string::npos);
}

TEST_F(ClientFixture, ForeignExceptionsFromCustomTransportsBecomeErrors) {
  auto cfg = config();
  cfg.transport = oidc::make_transport([](const oidc::HttpRequest&) -> oidc::HttpResponse {
    throw std::runtime_error("socket closed");
  });
  const Client client(cfg);
  const auto e = error_of([&] { (void)client.client_credentials(); });
  EXPECT_EQ(e.code(), errc::transport);
}

TEST_F(ClientFixture, ConfigurationIsValidated) {
  auto cfg = config();
  cfg.client_id.clear();
  EXPECT_EQ(error_of([&] { Client c(cfg); }).code(), errc::config);

  // Headers itself refuses a field that would split the request (errc::invalid_request).
  cfg = config();
  EXPECT_EQ(error_of([&] { cfg.extra_headers.set("X-Bad", "a\r\nInjected: yes"); }).code(), errc::invalid_request);

  cfg = config();
  cfg.token_endpoint.clear();
  const Client no_endpoint(cfg);
  EXPECT_EQ(error_of([&] { (void)no_endpoint.client_credentials(); }).code(), errc::config);

  cfg = config();
  cfg.token_endpoint = "http://auth.example.com/token";
  const Client insecure(cfg);
  EXPECT_EQ(error_of([&] { (void)insecure.client_credentials(); }).code(), errc::insecure_url);
  EXPECT_EQ(transport->request_count(), 0u);
}

// Issue 2, item 7: no client secret, password or token value in any error message of any failure.
TEST_F(ClientFixture, NoSecretInAnyErrorMessage) {
  const std::string secret = "client-SECRET-1234567";
  const std::string password = "user-PASSWORD-7654321";
  const std::string refresh = "refresh-TOKEN-abcdef";
  const std::vector<std::string> forbidden{secret, password, refresh};

  auto html = [&](int status) {
    oidc::HttpResponse r;
    r.status = status;
    r.headers.set("Content-Type", "text/html");
    r.body = "<html>echo: " + secret + " " + password + " " + refresh + "</html>";
    return r;
  };
  transport->push(html(500));
  transport->push(html(200));
  transport->push_json(400, R"({"error":"invalid_grant","error_description":"bad"})");
  transport->push_json(200, R"({"refresh_token":")" + refresh + R"("})");
  transport->push_json(401, R"({"client_secret":")" + secret + R"(","password":")" + password + R"("})");
  transport->push_error(Error(errc::timeout, "POST x", "Operation timed out after 30000 milliseconds"));

  const Client client(config(secret));
  oidc::Token with_refresh;
  with_refresh.refresh_token = refresh;
  const std::vector<std::function<void()>> calls{
      [&] { (void)client.password("alice", password); },
      [&] { (void)client.password("alice", password); },
      [&] { (void)client.refresh(with_refresh); },
      [&] { (void)client.password("alice", password); },
      [&] { (void)client.password("alice", password); },
      [&] { (void)client.password("alice", password); },
  };
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const auto e = error_of(calls[i]);
    for (const auto& f : forbidden) EXPECT_EQ(std::string(e.what()).find(f), std::string::npos) << i << ": " << e.what();
  }
}

// --- Refusals as real providers send them -------------------------------------------------

namespace {

// glewlwyd answers a refused refresh with a bare status: no body, no Content-Type.
oidc::HttpResponse bare(int status, std::string content_type = "", std::string body = "") {
  oidc::HttpResponse r;
  r.status = status;
  if (!content_type.empty()) r.headers.set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

std::string grant_type_of(const oidc::HttpRequest& r) {
  for (const auto& [k, v] : form_of(r))
    if (k == "grant_type") return v;
  return {};
}

std::vector<std::string> grant_types(const FakeTransport& t) {
  std::vector<std::string> out;
  for (const auto& r : t.requests()) out.push_back(grant_type_of(r));
  return out;
}

constexpr const char* kWithRefresh =
    R"({"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"rt-1"})";
constexpr const char* kSecond = R"({"access_token":"at-2","token_type":"Bearer","expires_in":300})";

}  // namespace

TEST_F(ClientFixture, ClientCredentialsSourceRegrantsWhenTheRefreshGetsAnEmpty403) {
  transport->push_json(200, kWithRefresh);
  transport->push(bare(403));
  transport->push_json(200, kSecond);
  const auto source = Client(config()).token_source(oidc::grants::ClientCredentials{"networks"});
  EXPECT_EQ(source->authorization_header(), "Bearer at-1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer at-2");
  EXPECT_EQ(grant_types(*transport),
            (std::vector<std::string>{"client_credentials", "refresh_token", "client_credentials"}));
}

TEST_F(ClientFixture, PasswordSourceRegrantsOnEmpty400AndHtml401) {
  transport->push_json(200, kWithRefresh);
  transport->push(bare(400));
  transport->push_json(200, kWithRefresh);
  transport->push(bare(401, "text/html", "<html><body>Unauthorized</body></html>"));
  transport->push_json(200, kSecond);
  const auto source = Client(config()).token_source(oidc::grants::Password{"alice", "pw"});
  EXPECT_EQ(source->authorization_header(), "Bearer at-1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer at-1");  // the re-grant's token
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer at-2");
  EXPECT_EQ(grant_types(*transport),
            (std::vector<std::string>{"password", "refresh_token", "password", "refresh_token", "password"}));
}

TEST_F(ClientFixture, InteractiveSourceNeedsLoginWhenTheRefreshGetsAnEmpty403) {
  transport->push(bare(403));
  oidc::Token login;
  login.access_token = "device-at";
  login.refresh_token = "device-rt";
  login.expiry = clock->now();
  const auto source = Client(config()).token_source(login);
  const auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::interaction_required);
  EXPECT_NE(e.detail().find("HTTP 403"), std::string::npos) << e.detail();
  EXPECT_EQ(grant_types(*transport), (std::vector<std::string>{"refresh_token"}));
}

TEST_F(ClientFixture, ServerErrorsAndClientAuthFailuresAreNotRefusals) {
  oidc::Token login;
  login.access_token = "device-at";
  login.refresh_token = "device-rt";
  login.expiry = clock->now();
  oidc::TokenSourceOptions impatient;
  impatient.min_backoff = impatient.max_backoff = std::chrono::milliseconds{0};

  transport->push(bare(500));
  transport->push_json(401, R"({"error":"invalid_client"})");
  const auto source = Client(config()).token_source(login, impatient);
  auto e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 500);
  e = error_of([&] { (void)source->token(); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "invalid_client");

  // The refusal statuses are configurable: without 403 a bare 403 is an HTTP error, and a
  // client-credentials source does not re-grant on it.
  auto cfg = config();
  cfg.refresh_refusal_statuses = {400};
  transport->push_json(200, kWithRefresh);
  transport->push(bare(403));
  const auto cc = Client(cfg).token_source(oidc::grants::ClientCredentials{}, impatient);
  (void)cc->token();
  clock->advance(300s);
  e = error_of([&] { (void)cc->token(); });
  EXPECT_EQ(e.code(), errc::http_status);
  EXPECT_EQ(e.http_status(), 403);
  EXPECT_EQ(grant_types(*transport), (std::vector<std::string>{"refresh_token", "refresh_token",
                                                               "client_credentials", "refresh_token"}));
}

TEST_F(ClientFixture, RefreshWithoutIdTokenKeepsThePreviousOne) {
  transport->push_json(200, R"({"access_token":"at-2","expires_in":60})");
  transport->push_json(200, R"({"access_token":"at-3","expires_in":60,"id_token":"id-2"})");
  const Client client(config());
  oidc::Token old;
  old.refresh_token = "rt-1";
  old.id_token = "id-1";
  const auto kept = client.refresh(old);
  EXPECT_EQ(kept.id_token.expose(), "id-1");
  const auto replaced = client.refresh(kept);
  EXPECT_EQ(replaced.id_token.expose(), "id-2");
}

TEST_F(ClientFixture, CancelTokensReachTheTransport) {
  oidc::CancelToken cancel;
  cancel.cancel();
  transport->push_json(200, kOk);
  transport->push_json(200, kOk);
  const Client client(config());
  (void)client.password("alice", "pw", {"", {}, cancel});
  ASSERT_TRUE(transport->last().cancel.has_value());
  EXPECT_TRUE(transport->last().cancel->cancelled());  // the caller's token, not a fresh one
  (void)client.client_credentials();
  EXPECT_FALSE(transport->last().cancel.has_value());  // none asked for: none allocated

  // A source hands its own token to the requests it makes, so destroying it can abort them.
  transport->push_json(200, kOk);
  const auto source = client.token_source(oidc::grants::ClientCredentials{});
  (void)source->token();
  EXPECT_TRUE(transport->last().cancel.has_value());
}

// --- ClientAuthMethod::auto_detect ---------------------------------------------------------

namespace {

bool sent_basic(const oidc::HttpRequest& r) { return r.headers.contains("Authorization"); }
bool sent_post(const oidc::HttpRequest& r) {
  for (const auto& [k, v] : form_of(r))
    if (k == "client_secret") return v == "s3cret";
  return false;
}

}  // namespace

TEST_F(ClientFixture, AutoDetectFallsBackToPostOnInvalidClientAndRemembersIt) {
  transport->push_json(401, R"({"error":"invalid_client","error_description":"Invalid client credentials"})");
  transport->push_json(200, kOk);
  transport->push_json(200, kOk);
  const Client client(config("s3cret", ClientAuthMethod::auto_detect));
  EXPECT_EQ(client.client_credentials().access_token.expose(), "at-1");
  (void)client.client_credentials();
  const auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(sent_basic(requests[0]));
  EXPECT_FALSE(sent_post(requests[0]));
  EXPECT_EQ(form_of(requests[0]), (Params{{"grant_type", "client_credentials"}}));
  for (std::size_t i : {1u, 2u}) {  // the fallback, then the remembered method without a probe
    EXPECT_FALSE(sent_basic(requests[i])) << i;
    EXPECT_EQ(form_of(requests[i]), (Params{{"grant_type", "client_credentials"},
                                            {"client_id", "svc"},
                                            {"client_secret", "s3cret"}}))
        << i;
  }
}

TEST_F(ClientFixture, AutoDetectFallsBackOnABare401) {
  transport->push(bare(401));
  transport->push_json(200, kOk);
  const Client client(config("s3cret", ClientAuthMethod::auto_detect));
  (void)client.client_credentials();
  ASSERT_EQ(transport->request_count(), 2u);
  EXPECT_TRUE(sent_post(transport->last()));
}

TEST_F(ClientFixture, AutoDetectKeepsBasicOnceItWorked) {
  transport->push_json(200, kOk);
  transport->push_json(401, R"({"error":"invalid_client"})");
  const Client client(config("s3cret", ClientAuthMethod::auto_detect));
  (void)client.client_credentials();
  // Decided: a later refusal is an error, not a reason to send the secret another way.
  EXPECT_EQ(error_of([&] { (void)client.client_credentials(); }).oauth_code(), "invalid_client");
  const auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(sent_basic(requests[0]));
  EXPECT_TRUE(sent_basic(requests[1]));
}

TEST_F(ClientFixture, AutoDetectIsNotFlippedByOtherFailures) {
  transport->push_json(400, R"({"error":"invalid_grant"})");
  transport->push(bare(500));
  transport->push_json(400, R"({"error":"invalid_scope"})");
  transport->push_json(401, R"({"error":"invalid_client"})");
  transport->push_json(200, kOk);
  transport->push_json(500, R"({"error":"server_error"})");
  const Client client(config("s3cret", ClientAuthMethod::auto_detect));
  EXPECT_EQ(error_of([&] { (void)client.password("alice", "wrong"); }).oauth_code(), "invalid_grant");
  EXPECT_EQ(error_of([&] { (void)client.client_credentials(); }).http_status(), 500);
  EXPECT_EQ(error_of([&] { (void)client.client_credentials({"x"}); }).oauth_code(), "invalid_scope");
  (void)client.client_credentials();  // basic refused, post works: remembered
  EXPECT_EQ(error_of([&] { (void)client.client_credentials(); }).oauth_code(), "server_error");
  std::vector<bool> basic;
  for (const auto& r : transport->requests()) basic.push_back(sent_basic(r));
  // No retry after the non-auth failures (one request each, still probing with Basic), then the
  // fallback, and the remembered post method survives a server error.
  EXPECT_EQ(basic, (std::vector<bool>{true, true, true, true, false, false}));
}

TEST_F(ClientFixture, AutoDetectRemembersPerEndpoint) {
  auto cfg = config("s3cret", ClientAuthMethod::auto_detect);
  cfg.device_authorization_endpoint = "https://auth.example.com/device";
  const Client client(cfg);
  transport->push_json(401, R"({"error":"invalid_client"})");
  transport->push_json(200, kOk);
  (void)client.client_credentials();
  transport->push_json(200, R"({"device_code":"dc","user_code":"UC","verification_uri":"https://v","expires_in":600})");
  (void)client.device_authorization();
  const auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].url, "https://auth.example.com/device");
  EXPECT_TRUE(sent_basic(requests[2]));  // the token endpoint's answer says nothing about this one
}

TEST_F(ClientFixture, AutoDetectPublicClientDoesNotProbe) {
  transport->push_json(200, kOk);
  const Client client(config("", ClientAuthMethod::auto_detect));
  (void)client.client_credentials();
  EXPECT_EQ(form_of(transport->last()), (Params{{"grant_type", "client_credentials"}, {"client_id", "svc"}}));
  EXPECT_FALSE(sent_basic(transport->last()));
}

// Many threads probing at once: each ends with a token, and the post method is what sticks.
TEST_F(ClientFixture, AutoDetectIsSafeUnderConcurrentProbes) {
  std::atomic<int> basic_attempts{0};
  auto cfg = config("s3cret", ClientAuthMethod::auto_detect);
  cfg.transport = oidc::make_transport([&](const oidc::HttpRequest& r) {
    if (sent_basic(r)) {
      ++basic_attempts;
      return oidc_testing::json_response(401, R"({"error":"invalid_client"})");
    }
    return oidc_testing::json_response(sent_post(r) ? 200 : 400, sent_post(r) ? kOk : R"({"error":"invalid_request"})");
  });
  const Client client(cfg);
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> tokens{0};
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j)
        if (!client.client_credentials().access_token.empty()) ++tokens;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(tokens.load(), kThreads * 20);
  const int probes = basic_attempts.load();
  EXPECT_GE(probes, 1);
  EXPECT_LE(probes, kThreads);  // at most one probe per thread before the outcome is remembered
  (void)client.client_credentials();
  EXPECT_EQ(basic_attempts.load(), probes);
}

// A Basic credential too short to look like a token is still masked when a server echoes it.
TEST_F(ClientFixture, EchoedBasicCredentialIsMasked) {
  auto cfg = config("b", ClientAuthMethod::client_secret_basic);
  cfg.client_id = "a";  // base64("a:b") = "YTpi"
  transport->push(bare(500, "text/html", "<p>you sent Authorization: Basic YTpi</p>"));
  const auto e = error_of([&] { (void)Client(cfg).client_credentials(); });
  EXPECT_EQ(transport->last().headers.get("Authorization"), "Basic YTpi");
  EXPECT_EQ(std::string(e.what()).find("YTpi"), std::string::npos) << e.what();
  EXPECT_NE(e.body_snippet().find("[redacted]"), std::string::npos) << e.body_snippet();
}

// --- API shape ------------------------------------------------------------------------------

TEST_F(ClientFixture, TokenSourceRefusesATokenAndOptionsInitialTogether) {
  oidc::Token login;
  login.access_token = "login";
  oidc::TokenSourceOptions options;
  options.initial = login;
  const Client client(config());
  EXPECT_EQ(error_of([&] { (void)client.token_source(login, options); }).code(), errc::config);
  // The grant sources take options.initial: their argument is the grant, not a token.
  login.expiry = clock->now() + 300s;
  options.initial = login;
  EXPECT_EQ(client.token_source(oidc::grants::ClientCredentials{}, options)->authorization_header(), "Bearer login");
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST_F(ClientFixture, ExtensionGrantSourceCachesRefreshesAndRegrants) {
  const Params form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", "eyJ.a.b"}};
  transport->push_json(200, kWithRefresh);
  transport->push_json(200, R"({"access_token":"at-2","token_type":"Bearer","expires_in":300,"refresh_token":"rt-2"})");
  transport->push_json(400, R"({"error":"invalid_grant"})");
  transport->push_json(200, R"({"access_token":"at-3","token_type":"Bearer","expires_in":300})");
  const auto source = Client(config()).token_source(form);
  EXPECT_EQ(source->authorization_header(), "Bearer at-1");
  EXPECT_EQ(source->authorization_header(), "Bearer at-1");  // cached
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer at-2");  // refreshed
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer at-3");  // refresh refused: the grant again
  const auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 4u);
  const Params sent{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                    {"assertion", "eyJ.a.b"},
                    {"client_id", "svc"},
                    {"client_secret", "s3cret"}};
  EXPECT_EQ(form_of(requests[0]), sent);
  EXPECT_EQ(form_of(requests[1]), (Params{{"grant_type", "refresh_token"},
                                          {"refresh_token", "rt-1"},
                                          {"client_id", "svc"},
                                          {"client_secret", "s3cret"}}));
  EXPECT_EQ(grant_type_of(requests[2]), "refresh_token");
  EXPECT_EQ(form_of(requests[3]), sent);
}

TEST_F(ClientFixture, AFormWithoutGrantTypeIsAConfigurationError) {
  const Client client(config());
  EXPECT_EQ(error_of([&] { (void)client.token_source(Params{{"assertion", "x"}}); }).code(), errc::config);
  EXPECT_EQ(error_of([&] { (void)client.request_token({{"assertion", "x"}}); }).code(), errc::config);
  EXPECT_EQ(transport->request_count(), 0u);
}

TEST(FormatUtc, IsRfc3339InUtc) {
  EXPECT_EQ(oidc::format_utc(std::chrono::system_clock::time_point{std::chrono::seconds{1796126400}}),
            "2026-12-01T12:00:00Z");
}
