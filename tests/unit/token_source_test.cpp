#include "oidc/token_source.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"

using namespace std::chrono_literals;
using oidc::CachingTokenSource;
using oidc::Client;
using oidc::ClientConfig;
using oidc::errc;
using oidc::Error;
using oidc::Token;
using oidc::TokenSourceOptions;
using oidc_testing::FakeClock;
using oidc_testing::FakeTransport;
using oidc_testing::form_of;
using oidc_testing::error_of;

namespace {

std::string token_json(const std::string& access, int expires_in, const std::string& refresh = "") {
  std::string j = R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":)" +
                  std::to_string(expires_in);
  if (!refresh.empty()) j += R"(,"refresh_token":")" + refresh + "\"";
  return j + "}";
}

std::string grant_type_of(const oidc::HttpRequest& r) {
  for (const auto& [k, v] : form_of(r))
    if (k == "grant_type") return v;
  return {};
}

struct SourceFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();

  Client client() {
    ClientConfig c;
    c.token_endpoint = "https://auth.example.com/token";
    c.client_id = "svc";
    c.client_secret = "secret";
    c.transport = transport;
    c.clock = clock;
    return Client(c);
  }

};

}  // namespace

TEST_F(SourceFixture, CachesUntilTheRenewalPoint) {
  transport->push_json(200, token_json("t1", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{"networks"});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(239s);  // renewal starts at 300 - skew 30 - refresh_ahead 30 = 240 s
  for (int i = 0; i < 100; ++i) EXPECT_EQ(source->authorization_header(), "Bearer t1");
  EXPECT_EQ(transport->request_count(), 1u);
  EXPECT_EQ(source->renewals(), 1u);
}

TEST_F(SourceFixture, ExpiredTokenIsRenewedBeforeItIsHandedOut) {
  transport->push_json(200, token_json("t1", 300));
  transport->push_json(200, token_json("t2", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(270s);  // the skew point: t1 must not be served any more
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(transport->request_count(), 2u);
  EXPECT_EQ(grant_type_of(transport->last()), "client_credentials");  // no refresh token: re-grant
}

TEST_F(SourceFixture, EarlyWindowServesCurrentTokenWhileRenewingInTheBackground) {
  transport->push_json(200, token_json("t1", 300));
  transport->push_json(200, token_json("t2", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(250s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");  // still 50 s left: served at once
  clock->advance(20s);                                     // past the skew point: waits for t2
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(transport->request_count(), 2u);
}

TEST_F(SourceFixture, FailedEarlyRenewalKeepsServingTheValidTokenAndRetriesWithBackoff) {
  transport->push_json(200, token_json("t1", 300));
  transport->push_json(503, R"({"error":"temporarily_unavailable"})");
  transport->push_json(200, token_json("t2", 300));
  TokenSourceOptions options;
  options.min_backoff = 2s;
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(245s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");  // starts the renewal that fails
  // Its failure must not surface, neither while it runs nor after.
  while (source->renewals() < 2) EXPECT_EQ(source->authorization_header(), "Bearer t1");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(source->authorization_header(), "Bearer t1");
  EXPECT_EQ(transport->request_count(), 2u);  // within the backoff: no new request
  clock->advance(3s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");  // retry starts in the background
  clock->advance(30s);                                     // past the skew point
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(transport->request_count(), 3u);
}

TEST_F(SourceFixture, FailedRenewalIsReportedThenRetriedAfterBoundedBackoff) {
  transport->push_json(500, "<html>down</html>");
  transport->push_json(500, "<html>down</html>");
  transport->push_json(200, token_json("t1", 300));
  TokenSourceOptions options;
  options.min_backoff = 1s;
  options.max_backoff = 2s;
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  // Within the backoff the last error is reported without a request.
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  EXPECT_EQ(transport->request_count(), 1u);
  clock->advance(1s);
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  EXPECT_EQ(transport->request_count(), 2u);
  clock->advance(1s);  // second failure doubled the backoff to 2 s
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  clock->advance(1s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  EXPECT_EQ(transport->request_count(), 3u);
}

TEST_F(SourceFixture, UsesRefreshTokenAndAdoptsRotation) {
  transport->push_json(200, token_json("t1", 300, "r1"));
  transport->push_json(200, token_json("t2", 300, "r2"));
  transport->push_json(200, token_json("t3", 300));
  auto source = client().token_source(oidc::grants::Password{"alice", "pw", "email profile"});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  auto refresh_form = form_of(transport->requests()[1]);
  EXPECT_EQ(refresh_form[0], (std::pair<std::string, std::string>{"grant_type", "refresh_token"}));
  EXPECT_EQ(refresh_form[1], (std::pair<std::string, std::string>{"refresh_token", "r1"}));
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer t3");
  EXPECT_EQ(form_of(transport->requests()[2])[1], (std::pair<std::string, std::string>{"refresh_token", "r2"}));
  // t3 came without a refresh token: the rotated r2 is kept for next time.
  EXPECT_EQ(source->token()->refresh_token.expose(), "r2");
}

TEST_F(SourceFixture, RefusedRefreshFallsBackToTheGrant) {
  // Seed 003: the server returns a refresh token but does not implement refresh.
  transport->push_json(200, token_json("t1", 300, "r1"));
  transport->push_json(400, R"({"error":"invalid_grant","error_description":"Refresh not supported"})");
  transport->push_json(200, token_json("t2", 300, "r2"));
  auto source = client().token_source(oidc::grants::Password{"alice", "pw"});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  const auto requests = transport->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(grant_type_of(requests[1]), "refresh_token");
  EXPECT_EQ(grant_type_of(requests[2]), "password");
}

TEST_F(SourceFixture, ExpiredRefreshTokenIsNotSent) {
  transport->push_json(200, R"({"access_token":"t1","expires_in":300,"refresh_token":"r1","refresh_expires_in":200})");
  transport->push_json(200, token_json("t2", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(grant_type_of(transport->last()), "client_credentials");
}

TEST_F(SourceFixture, InteractiveTokenNeedsLoginWhenRefreshIsImpossible) {
  Token initial;
  initial.access_token = "device-at";
  initial.refresh_token = "device-rt";
  initial.expiry = clock->now() + 60s;
  transport->push_json(200, token_json("t2", 300, "rt2"));
  transport->push_json(400, R"({"error":"invalid_grant","error_description":"Token is not active"})");
  auto source = client().token_source(initial);
  EXPECT_EQ(source->authorization_header(), "Bearer device-at");
  clock->advance(60s);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  clock->advance(300s);
  const auto e = error_of([&] { (void)source->authorization_header(); });
  EXPECT_EQ(e.code(), errc::interaction_required);

  Token no_refresh;
  no_refresh.access_token = "x";
  no_refresh.expiry = clock->now();
  auto source2 = client().token_source(no_refresh);
  EXPECT_EQ(error_of([&] { (void)source2->authorization_header(); }).code(), errc::interaction_required);
  EXPECT_EQ(transport->request_count(), 2u);
}

TEST_F(SourceFixture, OnTokenSeesEveryNewTokenAndSeedingAvoidsARequest) {
  std::vector<std::string> seen;
  TokenSourceOptions options;
  options.on_token = [&](const Token& t) { seen.push_back(t.refresh_token.expose()); };
  Token restored;
  restored.access_token = "restored";
  restored.refresh_token = "r0";
  restored.expiry = clock->now() + 100s;
  transport->push_json(200, token_json("t1", 300, "r1"));
  transport->push_json(200, token_json("t2", 300, "r2"));
  auto source = client().token_source(restored, options);
  EXPECT_EQ(source->authorization_header(), "Bearer restored");
  EXPECT_EQ(transport->request_count(), 0u);
  clock->advance(100s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(300s);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(seen, (std::vector<std::string>{"r1", "r2"}));
}

TEST_F(SourceFixture, TokenWithoutLifetimeUsesTheDefaultLifetime) {
  transport->push_json(200, R"({"access_token":"opaque1","token_type":"Bearer"})");
  transport->push_json(200, R"({"access_token":"opaque2","token_type":"Bearer"})");
  TokenSourceOptions options;
  options.default_lifetime = 120s;
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(source->authorization_header(), "Bearer opaque1");
  clock->advance(89s);  // 120 - 30 skew = 90 s
  EXPECT_EQ(source->authorization_header(), "Bearer opaque1");
  clock->advance(1s);
  EXPECT_EQ(source->authorization_header(), "Bearer opaque2");
}

TEST_F(SourceFixture, InvalidateForcesRenewal) {
  transport->push_json(200, token_json("t1", 300, "r1"));
  transport->push_json(200, token_json("t2", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{});
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  source->invalidate();
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(grant_type_of(transport->last()), "refresh_token");
}

TEST_F(SourceFixture, SourcesOfDifferentScopesNeverShareTokens) {
  transport->push_json(200, token_json("for-a", 300));
  transport->push_json(200, token_json("for-b", 300));
  auto a = client().token_source(oidc::grants::ClientCredentials{"a"});
  auto b = client().token_source(oidc::grants::ClientCredentials{"b"});
  EXPECT_EQ(a->authorization_header(), "Bearer for-a");
  EXPECT_EQ(b->authorization_header(), "Bearer for-b");
  EXPECT_EQ(a->authorization_header(), "Bearer for-a");  // thread-local slots are per source
  EXPECT_EQ(b->authorization_header(), "Bearer for-b");
}

// A transport whose responses are held until the test releases them.
struct GatedTransport final : oidc::Transport {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> calls{0};
  oidc::HttpResponse send(const oidc::HttpRequest&) override {
    const int n = ++calls;
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return open; });
    return oidc_testing::json_response(200, token_json("t" + std::to_string(n), 300));
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(m);
      open = true;
    }
    cv.notify_all();
  }
};

TEST_F(SourceFixture, AWaiterGivingUpDoesNotAbortTheRenewalForOthers) {
  auto gated = std::make_shared<GatedTransport>();
  ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.transport = gated;
  c.clock = clock;
  TokenSourceOptions impatient;
  impatient.max_wait = 20ms;
  auto source = Client(c).token_source(oidc::grants::ClientCredentials{}, impatient);
  // The impatient caller gives up while the request is held...
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::deadline_exceeded);
  // ...but the renewal goes on and its result reaches the next caller, without a second request.
  gated->release();
  std::string header;
  for (int i = 0; i < 1000 && header.empty(); ++i) {
    try {
      header = source->authorization_header();
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), errc::deadline_exceeded);
    }
  }
  EXPECT_EQ(header, "Bearer t1");
  EXPECT_EQ(gated->calls.load(), 1);
}

TEST_F(SourceFixture, UnboundedMaxWaitDoesNotOverflow) {
  transport->push_json(200, token_json("t1", 300));
  TokenSourceOptions options;
  options.max_wait = std::chrono::milliseconds::max();
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
}

// --- Lifetime-aware renewal ------------------------------------------------------------------------

namespace {

// Waits (real time, bounded) until no renewal is in flight, so a simulated step is deterministic.
void settle(const CachingTokenSource& source) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (source.renewing()) {
    if (std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << "renewal did not finish";
      return;
    }
    std::this_thread::yield();
  }
}

// One simulated hour of steady use, two calls every 100 ms (36 001 steps from t = 0 to 3600 s):
// returns the number of token requests. Every call must get a token.
std::size_t requests_in_an_hour(FakeClock& clock, CachingTokenSource& source, const std::function<std::size_t()>& count) {
  for (int step = 0; step <= 36000; ++step) {
    for (int call = 0; call < 2; ++call) {
      try {
        (void)source.authorization_header();
      } catch (const Error& e) {
        ADD_FAILURE() << "step " << step << ": " << e.what();
        return 0;
      }
      settle(source);
    }
    clock.advance(100ms);
  }
  return count();
}

struct HourCase {
  int expires_in;
  std::size_t requests;
};

class LifetimeRule : public ::testing::TestWithParam<HourCase> {};

}  // namespace

// The rule (token_source.hpp): renewal at expiry - min(30 s, L/4) - min(30 s, L/4), and never less
// than min_interval (1 s) after the last renewal obtained its token. Expected counts over
// [0, 3600 s], with a renewal at t = 0:
//   L = 1 s:    renew_at 0.5 s is inside the 1 s spacing; renewed at every whole second: 3601
//   L = 5 s:    every 2.5 s: 3600 / 2.5 + 1 = 1441
//   L = 30 s:   every 15 s: 241          L = 60 s: every 30 s: 121
//   L = 61 s:   every 30.5 s: floor(3600 / 30.5) + 1 = 119
//   L = 3600 s: at 0 and 3540 s: 2
// Before the rule, a 60 s token started a renewal on almost every call, a 30 s one looped.
TEST_P(LifetimeRule, ExactRequestsOverASimulatedHour) {
  const HourCase c = GetParam();
  auto clock = std::make_shared<FakeClock>();
  std::atomic<std::size_t> requests{0};
  ClientConfig config;
  config.token_endpoint = "https://auth.example.com/token";
  config.client_id = "svc";
  config.client_secret = "secret";
  config.clock = clock;
  config.transport = oidc::make_transport([&](const oidc::HttpRequest&) {
    const auto n = ++requests;
    return oidc_testing::json_response(200, token_json("t" + std::to_string(n), c.expires_in));
  });
  auto source = Client(config).token_source(oidc::grants::ClientCredentials{});
  EXPECT_EQ(requests_in_an_hour(*clock, *source, [&] { return requests.load(); }), c.requests)
      << "expires_in " << c.expires_in;
}

INSTANTIATE_TEST_SUITE_P(ExpiresIn, LifetimeRule,
                         ::testing::Values(HourCase{1, 3601}, HourCase{5, 1441}, HourCase{30, 241}, HourCase{60, 121},
                                           HourCase{61, 119}, HourCase{3600, 2}),
                         [](const ::testing::TestParamInfo<HourCase>& param) {
                           return "expires_in_" + std::to_string(param.param.expires_in);
                         });

// A token that expires at or before its receipt (a JWT exp in the past): served to the callers
// that waited for it, then renewed once per min_interval (1 s), never in a loop.
TEST(TokenSourceLifetime, ExpiryAtOrBeforeReceiptRenewsOncePerMinInterval) {
  for (const auto offset : {-10s, 0s}) {
    auto clock = std::make_shared<FakeClock>();
    std::atomic<std::size_t> renewals{0};
    CachingTokenSource source(
        [&](const std::shared_ptr<const Token>&, const oidc::CancelToken&) {
          Token t;
          t.access_token = "t" + std::to_string(++renewals);
          t.received_at = clock->now();
          t.expiry = t.received_at + offset;
          return t;
        },
        clock);
    EXPECT_EQ(requests_in_an_hour(*clock, source, [&] { return renewals.load(); }), 3601u) << "offset " << offset.count();
  }
}

TEST(TokenSourceLifetime, ManyCallsAtOneInstantOnAnExpiredTokenCauseOneRenewal) {
  auto clock = std::make_shared<FakeClock>();
  std::atomic<int> renewals{0};
  CachingTokenSource source(
      [&](const std::shared_ptr<const Token>&, const oidc::CancelToken&) {
        Token t;
        t.access_token = "t" + std::to_string(++renewals);
        t.received_at = clock->now();
        t.expiry = t.received_at - 1s;
        return t;
      },
      clock);
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(source.authorization_header(), "Bearer t1");
  EXPECT_EQ(renewals.load(), 1);
}

// --- Failures: served through, reported, backed off -------------------------------------------------

TEST_F(SourceFixture, ValidTokenIsServedWhileRenewalFailsUntilExpiryMinusTheSafetyMargin) {
  transport->push_json(200, token_json("t1", 300));
  transport->push_json(500, "<html>down</html>");
  transport->push_json(500, "<html>down</html>");
  TokenSourceOptions options;
  options.min_backoff = 30s;
  options.random_fraction = [] { return 0.0; };
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(245s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");  // early renewal fails: backoff to 275 s
  settle(*source);
  clock->advance(26s);  // 271 s: past the skew point (270 s), within the backoff
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  EXPECT_EQ(transport->request_count(), 2u);
  clock->advance(9s);  // 280 s: the retry fails while this caller waits; it still gets t1
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  EXPECT_EQ(transport->request_count(), 3u);  // backoff now 60 s: to 340 s
  clock->advance(14999ms);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");
  clock->advance(1ms);  // 295 s = expiry - safety margin 5 s: no longer served
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  EXPECT_EQ(transport->request_count(), 3u);
}

TEST_F(SourceFixture, RenewalFailuresAndOnTokenExceptionsReachOnError) {
  transport->push_json(500, "<html>down</html>");
  transport->push_json(200, token_json("t1", 300));
  std::mutex m;
  std::vector<Error> errors;
  TokenSourceOptions options;
  options.random_fraction = [] { return 0.0; };
  options.on_error = [&](const Error& e) {
    std::lock_guard<std::mutex> lock(m);
    errors.push_back(e);
  };
  options.on_token = [](const Token&) { throw std::runtime_error("disk full"); };
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  EXPECT_EQ(error_of([&] { (void)source->authorization_header(); }).code(), errc::http_status);
  clock->advance(1s);
  EXPECT_EQ(source->authorization_header(), "Bearer t1");  // on_token failed; the token is still used
  std::lock_guard<std::mutex> lock(m);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code(), errc::http_status);
  EXPECT_EQ(errors[1].code(), errc::transport);
  EXPECT_NE(errors[1].detail().find("disk full"), std::string::npos) << errors[1].what();
}

TEST(TokenSourceBackoff, JitterShortensEachBackoffByTheInjectedFraction) {
  auto clock = std::make_shared<FakeClock>();
  std::atomic<int> calls{0};
  TokenSourceOptions options;
  options.min_backoff = 4s;
  options.backoff_jitter = 0.5;
  options.random_fraction = [] { return 0.5; };  // each backoff is 75 % of the schedule
  CachingTokenSource source(
      [&](const std::shared_ptr<const Token>&, const oidc::CancelToken&) {
        if (++calls < 3) throw Error(errc::connect, "token request", "refused");
        Token t;
        t.access_token = "ok";
        t.received_at = clock->now();
        t.expiry = t.received_at + 300s;
        return t;
      },
      clock, options);
  EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), errc::connect);
  clock->advance(2999ms);
  EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), errc::connect);
  EXPECT_EQ(calls.load(), 1);
  clock->advance(1ms);  // 3 s = 4 s * 0.75
  EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), errc::connect);
  EXPECT_EQ(calls.load(), 2);
  clock->advance(5999ms);  // second backoff: 8 s * 0.75 = 6 s
  EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), errc::connect);
  clock->advance(1ms);
  EXPECT_EQ(source.authorization_header(), "Bearer ok");
  EXPECT_EQ(calls.load(), 3);
}

TEST(TokenSourceBackoff, FailuresThatCannotHealAreRetriedOnlyAfterMaxBackoff) {
  for (const errc code : {errc::config, errc::insecure_url, errc::invalid_request}) {
    auto clock = std::make_shared<FakeClock>();
    std::atomic<int> calls{0};
    TokenSourceOptions options;
    options.random_fraction = [] { return 0.0; };
    CachingTokenSource source(
        [&](const std::shared_ptr<const Token>&, const oidc::CancelToken&) -> Token {
          ++calls;
          throw Error(code, "token request", "cannot heal");
        },
        clock, options);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), code);
    clock->advance(options.min_backoff);  // a transient failure would be retried here
    EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), code);
    clock->advance(options.max_backoff - options.min_backoff - 1ms);
    EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), code);
    EXPECT_EQ(calls.load(), 1);
    clock->advance(1ms);
    EXPECT_EQ(error_of([&] { (void)source.authorization_header(); }).code(), code);
    EXPECT_EQ(calls.load(), 2);
  }
}

// --- Exception safety ------------------------------------------------------------------------------

namespace {
// Makes the next `n` renewal-thread starts fail as std::thread does under EAGAIN.
class FailingThreadStarts {
 public:
  explicit FailingThreadStarts(int n) {
    remaining() = n;
    oidc::detail::token_source_thread_starter() = &start;
  }
  ~FailingThreadStarts() { oidc::detail::token_source_thread_starter() = nullptr; }
  FailingThreadStarts(const FailingThreadStarts&) = delete;
  FailingThreadStarts& operator=(const FailingThreadStarts&) = delete;

 private:
  static std::atomic<int>& remaining() {
    static std::atomic<int> n{0};
    return n;
  }
  static std::thread start(std::function<void()> body) {
    if (remaining()-- > 0) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(body));
  }
};
}  // namespace

TEST_F(SourceFixture, FailedThreadStartIsAnOidcErrorAndTheNextCallRecovers) {
  transport->push_json(200, token_json("t1", 300));
  std::vector<errc> reported;
  TokenSourceOptions options;
  options.on_error = [&](const Error& e) { reported.push_back(e.code()); };
  auto source = client().token_source(oidc::grants::ClientCredentials{}, options);
  {
    FailingThreadStarts fail(1);
    const auto e = error_of([&] { (void)source->authorization_header(); });
    EXPECT_EQ(e.code(), errc::transport);
    EXPECT_NE(e.detail().find("renewal thread"), std::string::npos) << e.what();
    EXPECT_EQ(transport->request_count(), 0u);
    EXPECT_EQ(source->authorization_header(), "Bearer t1");  // no backoff, no wedge
  }
  EXPECT_EQ(reported, std::vector<errc>{errc::transport});
  EXPECT_EQ(transport->request_count(), 1u);
}

namespace {
// A clock that throws when read off the test's thread (that is, by the renewal thread) while armed.
class HostileClock final : public oidc::Clock {
 public:
  [[nodiscard]] time_point now() const override {
    if (armed && std::this_thread::get_id() != owner_) throw std::runtime_error("clock broke");
    return inner.now();
  }
  bool sleep_for(duration d, const oidc::CancelToken& cancel) const override { return inner.sleep_for(d, cancel); }
  FakeClock inner;
  std::atomic<bool> armed{false};

 private:
  const std::thread::id owner_ = std::this_thread::get_id();
};
}  // namespace

TEST(TokenSourceExceptionSafety, AClockThatThrowsOnTheRenewalThreadIsAFailedRenewal) {
  auto clock = std::make_shared<HostileClock>();
  clock->armed = true;
  TokenSourceOptions options;
  options.random_fraction = [] { return 0.0; };
  CachingTokenSource source(
      [clock](const std::shared_ptr<const Token>&, const oidc::CancelToken&) {
        Token t;
        t.access_token = "ok";
        t.received_at = clock->inner.now();
        t.expiry = t.received_at + 300s;
        return t;
      },
      clock, options);
  const auto e = error_of([&] { (void)source.authorization_header(); });  // the process lives on
  EXPECT_EQ(e.code(), errc::transport);
  EXPECT_NE(e.detail().find("clock broke"), std::string::npos) << e.what();
  clock->armed = false;
  clock->inner.advance(1s);
  EXPECT_EQ(source.authorization_header(), "Bearer ok");
}

// --- Shutdown --------------------------------------------------------------------------------------

namespace {
Token early_window_token(const FakeClock& clock, const std::string& access) {
  Token t;
  t.access_token = access;
  t.received_at = clock.now() - 250s;
  t.expiry = clock.now() + 50s;  // renewal window opened 10 s ago, stale in 20 s
  return t;
}

struct Shared {
  std::mutex m;
  std::condition_variable cv;
  bool in_renew = false;
  bool gate = false;
  bool finished = false;
  bool cancelled = false;
  int tokens_seen = 0;
  std::shared_ptr<CachingTokenSource> source;  // for the hook tests: the only owner
  bool destroyed = false;

  template <class P>
  bool wait(P p) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, 30s, p);
  }
  template <class F>
  void update(F f) {
    {
      std::lock_guard<std::mutex> lock(m);
      f();
    }
    cv.notify_all();
  }
};
}  // namespace

TEST(TokenSourceShutdown, DestructorFiresCancelAndDoesNotWaitForTheRequest) {
  auto clock = std::make_shared<FakeClock>();
  auto shared = std::make_shared<Shared>();
  TokenSourceOptions options;
  options.initial = early_window_token(*clock, "initial");
  options.on_token = [shared](const Token&) { shared->update([&] { ++shared->tokens_seen; }); };
  // Captures by value: the renewal may outlive the source and this test's frame.
  auto source = std::make_unique<CachingTokenSource>(
      [shared, clock](const std::shared_ptr<const Token>&, const oidc::CancelToken& cancel) {
        shared->update([&] { shared->in_renew = true; });
        const bool cancelled = cancel.wait_for(30s);
        std::unique_lock<std::mutex> lock(shared->m);
        shared->cancelled = cancelled;
        shared->cv.wait_for(lock, 30s, [&] { return shared->gate; });
        shared->finished = true;
        shared->cv.notify_all();
        Token t;
        t.access_token = "late";
        t.received_at = clock->now();
        t.expiry = t.received_at + 300s;
        return t;
      },
      clock, options);
  EXPECT_EQ(source->authorization_header(), "Bearer initial");  // starts the background renewal
  ASSERT_TRUE(shared->wait([&] { return shared->in_renew; }));
  source.reset();
  shared->update([&] {
    EXPECT_FALSE(shared->finished) << "the destructor waited for the renewal";
    shared->gate = true;
  });
  ASSERT_TRUE(shared->wait([&] { return shared->finished; }));
  std::lock_guard<std::mutex> lock(shared->m);
  EXPECT_TRUE(shared->cancelled);
  EXPECT_EQ(shared->tokens_seen, 0);  // no hook after the destructor returned
}

TEST(TokenSourceShutdown, DroppingTheLastReferenceInsideAHookIsSafe) {
  for (const bool in_on_error : {false, true}) {
    auto clock = std::make_shared<FakeClock>();
    auto shared = std::make_shared<Shared>();
    const auto destroy_from_hook = [shared] {
      std::shared_ptr<CachingTokenSource> last;
      {
        std::lock_guard<std::mutex> lock(shared->m);
        last = std::move(shared->source);
      }
      last.reset();  // ~CachingTokenSource on its own renewal thread
      shared->update([&] { shared->destroyed = true; });
    };
    TokenSourceOptions options;
    options.initial = early_window_token(*clock, "initial");
    if (in_on_error) {
      options.on_error = [destroy_from_hook](const Error&) { destroy_from_hook(); };
    } else {
      options.on_token = [destroy_from_hook](const Token&) { destroy_from_hook(); };
    }
    {
      std::lock_guard<std::mutex> lock(shared->m);
      shared->source = std::make_shared<CachingTokenSource>(
          [in_on_error, clock](const std::shared_ptr<const Token>&, const oidc::CancelToken&) -> Token {
            if (in_on_error) throw Error(errc::connect, "token request", "refused");
            Token t;
            t.access_token = "new";
            t.received_at = clock->now();
            t.expiry = t.received_at + 300s;
            return t;
          },
          clock, options);
      EXPECT_EQ(shared->source->authorization_header(), "Bearer initial");  // starts the renewal
    }
    EXPECT_TRUE(shared->wait([&] { return shared->destroyed; })) << "in_on_error " << in_on_error;
  }
}

// --- Slots and invalidation ------------------------------------------------------------------------

TEST(TokenSourceSlots, ASourceAtTheAddressOfADestroyedOneServesOnlyItsOwnToken) {
  auto clock = std::make_shared<FakeClock>();
  for (int i = 0; i < 50; ++i) {
    TokenSourceOptions options;
    options.initial = Token{};
    options.initial->access_token = "tok-" + std::to_string(i);
    options.initial->expiry = clock->now() + 3600s;
    auto source = std::make_unique<CachingTokenSource>(
        [](const std::shared_ptr<const Token>&, const oidc::CancelToken&) -> Token {
          throw Error(errc::config, "test", "no renewal expected");
        },
        clock, options);
    EXPECT_EQ(source->authorization_header(), "Bearer tok-" + std::to_string(i));
    EXPECT_EQ(source->token()->access_token.expose(), "tok-" + std::to_string(i));
  }
}

TEST_F(SourceFixture, InvalidateWithATokenDropsItOnlyWhileItIsCurrent) {
  transport->push_json(200, token_json("t1", 300));
  transport->push_json(200, token_json("t2", 300));
  transport->push_json(200, token_json("t3", 300));
  auto source = client().token_source(oidc::grants::ClientCredentials{});
  const auto t1 = source->token();
  source->invalidate(*t1);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  source->invalidate(*t1);  // a late 401 for the old token: t2 stays
  source->invalidate(*t1);
  EXPECT_EQ(source->authorization_header(), "Bearer t2");
  EXPECT_EQ(transport->request_count(), 2u);
  Token copy = *source->token();  // a copy of the current token counts as it
  source->invalidate(copy);
  EXPECT_EQ(source->authorization_header(), "Bearer t3");
  EXPECT_EQ(transport->request_count(), 3u);
}
