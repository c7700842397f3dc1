#include "oidc/grants/device_code.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <string>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"
#include "seed_documents.hpp"

using namespace std::chrono_literals;
using oidc::Client;
using oidc::ClientAuthMethod;
using oidc::ClientConfig;
using oidc::DeviceAuthorization;
using oidc::DevicePollOptions;
using oidc::DevicePollProgress;
using oidc::errc;
using oidc::Error;
using oidc::Params;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;
using oidc_testing::error_of;
namespace seeds = oidc_testing::seeds;

namespace {

constexpr const char* kPending = R"({"error":"authorization_pending","error_description":"The authorization request is still pending"})";
constexpr const char* kSlowDown = R"({"error":"slow_down"})";
constexpr const char* kToken = R"({"access_token":"at","expires_in":300,"refresh_token":"rt","token_type":"Bearer"})";

struct DeviceFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  Client public_client() {
    ClientConfig c;
    c.device_authorization_endpoint = std::string(seeds::kSeed000DeviceAuthorizationUrl);
    c.token_endpoint = std::string(seeds::kSeed000TokenUrl);
    c.client_id = std::string(seeds::kSeed000ClientId);
    c.transport = transport;
    c.clock = clock;
    return Client(c);
  }

  DeviceAuthorization authorization(std::chrono::seconds interval = 5s, std::chrono::seconds expires_in = 600s) {
    DeviceAuthorization a;
    a.device_code = "dc-1";
    a.user_code = "XCMX-RRUL";
    a.verification_uri = "https://example.com/device";
    a.interval = interval;
    a.expires_in = expires_in;
    a.expires_at = clock->now() + expires_in;
    return a;
  }

};

std::vector<FakeClock::duration> seconds_list(std::initializer_list<int> s) {
  std::vector<FakeClock::duration> v;
  for (int x : s) v.emplace_back(std::chrono::seconds{x});
  return v;
}

}  // namespace

TEST_F(DeviceFixture, AuthorizationRequestAndResponseOfSeed000) {
  transport->push_json(200, std::string(seeds::kSeed000DeviceAuthorizationResponse));
  const auto a = public_client().device_authorization();
  const auto req = transport->last();
  EXPECT_EQ(req.url, seeds::kSeed000DeviceAuthorizationUrl);
  EXPECT_EQ(req.headers.get("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.body, seeds::kSeed000DeviceAuthorizationRequestBody);
  EXPECT_EQ(a.device_code.expose(), seeds::kSeed000DeviceCode);
  EXPECT_EQ(a.user_code, "XCMX-RRUL");
  EXPECT_EQ(a.verification_uri, seeds::kSeed000VerificationUri);
  EXPECT_EQ(a.verification_uri_complete, seeds::kSeed000VerificationUriComplete);
  EXPECT_EQ(a.expires_in, 600s);
  EXPECT_EQ(a.interval, 5s);
  EXPECT_EQ(a.expires_at, clock->now() + 600s);
}

TEST_F(DeviceFixture, ConfidentialClientOfSeed002SendsSecretAndScope) {
  transport->push_json(200, std::string(seeds::kSeed002DeviceAuthorizationResponse));
  ClientConfig c;
  c.device_authorization_endpoint = "https://localhost:5001/master/device_authorization";
  c.client_id = "device";
  c.client_secret = "password";
  c.auth_method = ClientAuthMethod::client_secret_post;
  c.transport = transport;
  c.clock = clock;
  const auto a = Client(c).device_authorization({"openid profile"});
  const Params expected{{"scope", "openid profile"}, {"client_id", "device"}, {"client_secret", "password"}};
  EXPECT_EQ(form_of(transport->last()), expected);
  EXPECT_EQ(a.user_code, "7096");
  EXPECT_EQ(a.verification_uri_complete, "https://localhost:5001/master/Device?userCode=7096");
}

TEST_F(DeviceFixture, IntervalDefaultsToFiveSecondsAndLegacyUrlSpellingIsAccepted) {
  transport->push_json(200, R"({"device_code":"d","user_code":"U","verification_url":"https://g.co/device","expires_in":"1800"})");
  const auto a = public_client().device_authorization();
  EXPECT_EQ(a.interval, 5s);
  EXPECT_EQ(a.verification_uri, "https://g.co/device");
  EXPECT_EQ(a.expires_in, 1800s);
}

TEST_F(DeviceFixture, IncompleteAuthorizationResponseIsAParseError) {
  transport->push_json(200, R"({"device_code":"d","expires_in":600})");
  const auto e = error_of([&] { (void)public_client().device_authorization(); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_EQ(std::string(e.what()).find("\"d\""), std::string::npos);  // device_code value masked
}

TEST_F(DeviceFixture, AuthorizationErrorIsTyped) {
  transport->push_json(401, R"({"error":"invalid_client","error_description":"Invalid client credentials"})");
  const auto e = error_of([&] { (void)public_client().device_authorization(); });
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_EQ(e.http_status(), 401);
}

TEST_F(DeviceFixture, PollsEveryIntervalUntilApprovedAndSlowDownAddsFiveSeconds) {
  transport->push_json(400, kPending);
  transport->push_json(400, kPending);
  transport->push_json(400, kSlowDown);
  transport->push_json(400, kPending);
  transport->push_json(200, kToken);
  std::vector<DevicePollProgress> progress;
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress& p) { progress.push_back(p); };
  const auto token = public_client().poll_device_token(authorization(), options);
  EXPECT_EQ(token.access_token.expose(), "at");
  // The interval is waited before every request, and slow_down raises it for all later polls.
  EXPECT_EQ(clock->sleeps(), seconds_list({5, 5, 5, 10, 10}));
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[2].polls, 3u);
  EXPECT_TRUE(progress[2].slow_down);
  EXPECT_EQ(progress[2].interval, 10s);
  EXPECT_FALSE(progress[3].slow_down);
  EXPECT_EQ(progress[3].remaining, 600s - 25s);
  for (const auto& req : transport->requests()) {
    const Params expected{{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
                          {"device_code", "dc-1"},
                          {"client_id", "device-client"}};
    EXPECT_EQ(form_of(req), expected);
    EXPECT_EQ(req.url, seeds::kSeed000TokenUrl);
  }
}

TEST_F(DeviceFixture, AccessDeniedAndExpiredTokenEndPollingWithDistinctErrors) {
  transport->push_json(400, kPending);
  transport->push_json(400, R"({"error":"access_denied","error_description":"The end user denied the authorization request"})");
  auto e = error_of([&] { (void)public_client().poll_device_token(authorization()); });
  EXPECT_EQ(e.code(), errc::oauth_error);
  EXPECT_EQ(e.oauth_code(), "access_denied");

  transport->push_json(400, R"({"error":"expired_token"})");
  e = error_of([&] { (void)public_client().poll_device_token(authorization()); });
  EXPECT_EQ(e.oauth_code(), "expired_token");
  EXPECT_EQ(transport->request_count(), 3u);
}

TEST_F(DeviceFixture, StopsAtTheCodesExpiryWithoutAnotherRequest) {
  for (int i = 0; i < 4; ++i) transport->push_json(400, kPending);
  const auto e = error_of([&] { (void)public_client().poll_device_token(authorization(5s, 20s)); });
  EXPECT_EQ(e.code(), errc::deadline_exceeded);
  // Polls at 5, 10, 15 s; the sleep to 20 s reaches the expiry, so no fourth poll.
  EXPECT_EQ(transport->request_count(), 3u);
  EXPECT_EQ(clock->sleeps(), seconds_list({5, 5, 5, 5}));
}

// A code living no longer than its interval (node oidc-provider with a 4-s code: interval clamped
// to 4 s) is still polled once, 2 s (at most half its life) before it expires, rather than slept
// through. 1 s was too little against node oidc-provider under load: its expiry counts from a
// floored issue time, and the one poll arrived after it (expired_token in CI).
TEST_F(DeviceFixture, ACodeNoLongerThanItsIntervalIsPolledOnceBeforeItExpires) {
  transport->push_json(200, R"({"access_token":"at-1","token_type":"Bearer"})");
  const auto token = public_client().poll_device_token(authorization(4s, 4s));
  EXPECT_EQ(token.access_token.expose(), "at-1");
  EXPECT_EQ(transport->request_count(), 1u);
  EXPECT_EQ(clock->sleeps(), seconds_list({2}));  // 4 s less min(2 s, half)

  transport->push_json(400, kPending);
  const auto e = error_of([&] { (void)public_client().poll_device_token(authorization(5s, 2s)); });
  EXPECT_EQ(e.code(), errc::deadline_exceeded);
  EXPECT_EQ(e.detail(), "the device code expired before a token was issued");
  EXPECT_EQ(transport->request_count(), 2u);  // one poll at 1 s, none after
}

TEST_F(DeviceFixture, CallerDeadlineEndsPollingEarly) {
  for (int i = 0; i < 2; ++i) transport->push_json(400, kPending);
  DevicePollOptions options;
  options.deadline = clock->now() + 12s;
  const auto e = error_of([&] { (void)public_client().poll_device_token(authorization(), options); });
  EXPECT_EQ(e.code(), errc::deadline_exceeded);
  EXPECT_EQ(clock->sleeps(), seconds_list({5, 5, 2}));
}

TEST_F(DeviceFixture, CancellationReturnsControlBeforeTheNextPoll) {
  transport->push_json(400, kPending);
  DevicePollOptions options;
  options.on_pending = [&](const DevicePollProgress&) { options.cancel.cancel(); };
  const auto e = error_of([&] { (void)public_client().poll_device_token(authorization(), options); });
  EXPECT_EQ(e.code(), errc::cancelled);
  EXPECT_EQ(transport->request_count(), 1u);
}

TEST_F(DeviceFixture, CancellationWakesARealSleepAtOnce) {
  // The system clock's sleep waits on the token, so cancel() from another thread ends a long
  // interval immediately rather than after it.
  oidc::CancelToken cancel;
  std::thread canceller([&] { cancel.cancel(); });
  const auto start = std::chrono::steady_clock::now();
  const bool completed = oidc::system_clock()->sleep_for(std::chrono::hours(1), cancel);
  canceller.join();
  EXPECT_FALSE(completed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(DeviceFixture, ConnectionTimeoutDoublesTheInterval) {
  transport->push_error(Error(errc::timeout, "POST", "timed out"));
  transport->push_json(200, kToken);
  (void)public_client().poll_device_token(authorization());
  EXPECT_EQ(clock->sleeps(), seconds_list({5, 10}));
}

TEST_F(DeviceFixture, OtherErrorsEndPollingAtOnce) {
  transport->push_json(400, R"({"error":"invalid_grant"})");
  EXPECT_EQ(error_of([&] { (void)public_client().poll_device_token(authorization()); }).oauth_code(), "invalid_grant");
  transport->push_error(Error(errc::connect, "POST", "refused"));
  EXPECT_EQ(error_of([&] { (void)public_client().poll_device_token(authorization()); }).code(), errc::connect);
}

// ---- Validation of the device authorization response -----------------------------------------

namespace {

std::string device_response(const std::string& members) {
  nlohmann::json j = {{"device_code", "dc"}, {"user_code", "ABCD-EFGH"},
                      {"verification_uri", "https://idp.example.com/device"}, {"expires_in", 600}};
  const auto extra = nlohmann::json::parse("{" + members + "}");
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

}  // namespace

TEST_F(DeviceFixture, UserCodeMustBePrintable) {
  for (const char* bad : {R"("user_code":"\u001b[2J\u001b]0;pwned\u0007")", R"("user_code":"AB\r\nCD")",
                          R"("user_code":"\u009b31m")", R"("user_code":"\u0000")", R"("user_code":7096)"}) {
    transport->push_json(200, device_response(bad));
    const auto e = error_of([&] { (void)public_client().device_authorization(); });
    EXPECT_EQ(e.code(), errc::parse) << bad;
    EXPECT_NE(e.detail().find("user_code"), std::string::npos) << e.detail();
    EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos);
  }
  transport->push_json(200, device_response(R"("user_code":")" + std::string(65, 'A') + "\""));
  EXPECT_EQ(error_of([&] { (void)public_client().device_authorization(); }).code(), errc::parse);
  // A form body can carry bytes JSON cannot: invalid UTF-8 is refused as well.
  oidc::HttpResponse form;
  form.status = 200;
  form.headers.set("Content-Type", "application/x-www-form-urlencoded");
  form.body = "device_code=dc&user_code=%FFAB&verification_uri=https%3A%2F%2Fidp.example.com%2Fd&expires_in=600";
  EXPECT_EQ(error_of([&] { (void)oidc::parse_device_authorization_response(form, clock->now()); }).code(), errc::parse);
  // Non-ASCII letters are fine.
  transport->push_json(200, device_response(R"("user_code":"ÄÖÜ-123")"));
  EXPECT_EQ(public_client().device_authorization().user_code, "ÄÖÜ-123");
}

TEST_F(DeviceFixture, VerificationUrisMustBeHttpsOrLoopback) {
  for (const std::string& bad :
       {std::string(R"x("verification_uri":"javascript:alert(1)")x"),
        std::string(R"("verification_uri":"http://idp.example.com/device")"),
        std::string(R"("verification_uri":"https://idp.example.com/\u001b[31m")"),
        std::string(R"("verification_uri":"https://idp.example.com/)") + std::string(3000, 'a') + "\"",
        std::string(R"x("verification_uri_complete":"javascript:alert(1)")x"),
        std::string(R"("verification_uri_complete":"https://idp.example.com/?c=a b")")}) {
    transport->push_json(200, device_response(bad));
    const auto e = error_of([&] { (void)public_client().device_authorization(); });
    EXPECT_EQ(e.code(), errc::parse) << bad.substr(0, 80);
    EXPECT_NE(e.detail().find("verification_uri"), std::string::npos) << e.detail();
    EXPECT_EQ(e.detail().find("javascript"), std::string::npos) << e.detail();
  }
  // Google's spelling goes through the same check.
  transport->push_json(
      200, R"x({"device_code":"d","user_code":"U","verification_url":"javascript:alert(1)","expires_in":600})x");
  const auto e = error_of([&] { (void)public_client().device_authorization(); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("verification_url is not an absolute https URI"), std::string::npos) << e.detail();

  // Loopback http is fine; other http hosts need allow_insecure_http.
  transport->push_json(200, device_response(R"("verification_uri":"http://127.0.0.1:8080/device")"));
  EXPECT_EQ(public_client().device_authorization().verification_uri, "http://127.0.0.1:8080/device");
  ClientConfig c;
  c.device_authorization_endpoint = "https://idp.example.com/device_authorization";
  c.client_id = "device-client";
  c.allow_insecure_http = true;
  c.transport = transport;
  c.clock = clock;
  transport->push_json(200, device_response(R"("verification_uri":"http://idp.internal/device")"));
  EXPECT_EQ(Client(c).device_authorization().verification_uri, "http://idp.internal/device");
}

TEST_F(DeviceFixture, IntervalIsClampedToAMinuteAndTheCodesLifetime) {
  transport->push_json(200, device_response(R"("interval":86400)"));
  EXPECT_EQ(public_client().device_authorization().interval, 60s);
  transport->push_json(200, device_response(R"("interval":0)"));
  EXPECT_EQ(public_client().device_authorization().interval, 1s);
  transport->push_json(200, device_response(R"("interval":30,"expires_in":10)"));
  const auto a = public_client().device_authorization();
  EXPECT_EQ(a.interval, 10s);
  EXPECT_EQ(a.expires_in, 10s);
  transport->push_json(200, device_response(R"("expires_in":18446744073709551616)"));
  EXPECT_EQ(public_client().device_authorization().expires_in, std::chrono::seconds{10LL * 365 * 24 * 3600});
}

TEST_F(DeviceFixture, DeviceCodeAndDuplicatesAreRefused) {
  transport->push_json(200, device_response(R"("device_code":"dc\r\nX: 1")"));
  auto e = error_of([&] { (void)public_client().device_authorization(); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("device_code is not RFC 6749 VSCHAR"), std::string::npos) << e.detail();
  transport->push_json(200, R"({"device_code":"d","user_code":"U","user_code":"V",)"
                            R"("verification_uri":"https://idp.example.com/d","expires_in":600})");
  e = error_of([&] { (void)public_client().device_authorization(); });
  EXPECT_EQ(e.code(), errc::parse);
  EXPECT_NE(e.detail().find("duplicate member \"user_code\""), std::string::npos) << e.detail();
}
