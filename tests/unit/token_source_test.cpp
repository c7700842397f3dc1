#include "oidc/token_source.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
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
