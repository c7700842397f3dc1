#include "oidc/jwks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using oidc::errc;
using oidc::Error;
using oidc::HttpRequest;
using oidc::HttpResponse;
using oidc::JwksCache;
using oidc::JwksCacheOptions;
using oidc_testing::error_of;
using oidc_testing::FakeClock;

// A JWK Set naming `kids`. The keys are too small to be used (a real from_jwk refuses them, and so
// does the placeholder), so they are remembered as refused: the cache logic only needs the kids.
std::string jwks(const std::vector<std::string>& kids) {
  std::string s = R"({"keys":[)";
  for (std::size_t i = 0; i < kids.size(); ++i)
    s += (i ? "," : "") + std::string(R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")") + kids[i] +
         R"(","n":"AQAB","e":"AQAB"})";
  return s + "]}";
}

// A server whose document and status the test changes; counts requests.
struct Server {
  std::mutex m;
  std::string body = jwks({"a"});
  int status = 200;
  std::string content_type = "application/json";
  std::string cache_control;
  bool fail = false;
  std::atomic<int> requests{0};
  std::vector<std::string> urls;

  std::shared_ptr<oidc::Transport> transport() {
    return oidc::make_transport([this](const HttpRequest& req) {
      ++requests;
      std::lock_guard<std::mutex> l(m);
      urls.push_back(req.url);
      if (fail) throw Error(errc::connect, "HTTP", "connection refused");
      HttpResponse r;
      r.status = status;
      r.headers.set("Content-Type", content_type);
      if (!cache_control.empty()) r.headers.set("Cache-Control", cache_control);
      r.body = body;
      return r;
    });
  }
  void serve(std::string b) {
    std::lock_guard<std::mutex> l(m);
    body = std::move(b);
  }
  void set_fail(bool f) {
    std::lock_guard<std::mutex> l(m);
    fail = f;
  }
};

struct Fixture : ::testing::Test {
  Server server;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  oidc::FetchOptions fetch() {
    oidc::FetchOptions f;
    f.transport = server.transport();
    f.clock = clock;
    return f;
  }
  JwksCacheOptions exact() {
    JwksCacheOptions o;
    o.backoff_jitter = 0;
    return o;
  }
};

using JwksCacheTest = Fixture;

const std::string uri = "https://sso.example.com/realms/core/protocol/openid-connect/certs";

TEST_F(JwksCacheTest, FirstCallFetchesThenHitsTheCache) {
  JwksCache cache(uri, fetch());
  EXPECT_EQ(cache.fetches(), 0u);  // nothing at construction
  const auto set = cache.keys_for(std::string("a"));
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->has_kid("a"));
  EXPECT_EQ(server.urls.at(0), uri);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(cache.keys_for(std::string("a")), set);
  EXPECT_EQ(cache.keys_for(std::nullopt), set);
  EXPECT_EQ(server.requests.load(), 1);
  EXPECT_EQ(cache.fetches(), 1u);
}

TEST_F(JwksCacheTest, UnknownKidRefetchesOnceThenRateLimited) {
  JwksCache cache(uri, fetch());
  (void)cache.keys_for(std::string("a"));
  server.serve(jwks({"a", "b"}));
  // Just fetched: an unknown kid does not refetch yet.
  EXPECT_FALSE(cache.keys_for(std::string("b"))->has_kid("b"));
  EXPECT_EQ(server.requests.load(), 1);
  clock->advance(60s);
  EXPECT_TRUE(cache.keys_for(std::string("b"))->has_kid("b"));
  EXPECT_EQ(server.requests.load(), 2);
  EXPECT_TRUE(cache.keys_for(std::string("a"))->has_kid("a"));  // known kid: no request
  // Another unknown kid within min_refetch_interval: the current set, no request.
  EXPECT_FALSE(cache.keys_for(std::string("c"))->has_kid("c"));
  EXPECT_EQ(server.requests.load(), 2);
  clock->advance(60s);
  (void)cache.keys_for(std::string("c"));
  EXPECT_EQ(server.requests.load(), 3);
}

TEST_F(JwksCacheTest, RotationNewKidAppearsOldDisappears) {
  JwksCache cache(uri, fetch());
  EXPECT_TRUE(cache.keys_for(std::string("old"))->has_kid("a"));
  server.serve(jwks({"new"}));
  clock->advance(61s);
  const auto set = cache.keys_for(std::string("new"));
  EXPECT_TRUE(set->has_kid("new"));
  EXPECT_FALSE(set->has_kid("a"));
}

TEST_F(JwksCacheTest, FloodOfRandomKidsFromThreadsAtMostOneRefetchPerInterval) {
  JwksCache cache(uri, fetch());
  (void)cache.keys_for(std::nullopt);
  ASSERT_EQ(server.requests.load(), 1);
  auto flood = [&](unsigned seed) {
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        std::mt19937 rng(seed * 10 + t);
        for (int i = 0; i < 250; ++i) (void)cache.keys_for("kid-" + std::to_string(rng()));
      });
    for (auto& th : threads) th.join();
  };
  flood(1);  // 1000 lookups right after the first fetch: none refetches
  EXPECT_EQ(server.requests.load(), 1);
  clock->advance(60s);
  flood(2);
  EXPECT_EQ(server.requests.load(), 2);
  clock->advance(30s);
  flood(3);
  EXPECT_EQ(server.requests.load(), 2);
  clock->advance(30s);
  flood(4);
  EXPECT_EQ(server.requests.load(), 3);
}

TEST_F(JwksCacheTest, MaxAgeExpiryRefetches) {
  JwksCacheOptions o;
  o.max_age = 1h;
  JwksCache cache(uri, fetch(), o);
  (void)cache.keys_for(std::string("a"));
  clock->advance(1h - 1s);
  (void)cache.keys_for(std::string("a"));
  EXPECT_EQ(server.requests.load(), 1);
  clock->advance(1s);
  (void)cache.keys_for(std::string("a"));
  EXPECT_EQ(server.requests.load(), 2);
}

TEST_F(JwksCacheTest, CacheControlMaxAgeShortensButNotBelowRefetchInterval) {
  server.cache_control = "public, max-age=300";
  JwksCache cache(uri, fetch());
  (void)cache.keys_for(std::nullopt);
  clock->advance(299s);
  (void)cache.keys_for(std::nullopt);
  EXPECT_EQ(server.requests.load(), 1);
  clock->advance(1s);
  (void)cache.keys_for(std::nullopt);
  EXPECT_EQ(server.requests.load(), 2);
  server.cache_control = "no-cache";
  clock->advance(300s);
  (void)cache.keys_for(std::nullopt);
  EXPECT_EQ(server.requests.load(), 3);
  clock->advance(59s);
  (void)cache.keys_for(std::nullopt);
  EXPECT_EQ(server.requests.load(), 3);  // bounded below by min_refetch_interval
  clock->advance(1s);
  (void)cache.keys_for(std::nullopt);
  EXPECT_EQ(server.requests.load(), 4);
}

TEST_F(JwksCacheTest, FailedFetchKeepsThePreviousSet) {
  JwksCache cache(uri, fetch(), exact());
  const auto set = cache.keys_for(std::string("a"));
  server.set_fail(true);
  clock->advance(25h);
  EXPECT_EQ(cache.keys_for(std::string("a")), set);  // expired, refetch failed: still served
  EXPECT_EQ(cache.keys_for(std::string("zzz")), set);
  EXPECT_EQ(server.requests.load(), 2);  // backing off: no request for zzz
  server.set_fail(false);
  server.serve(jwks({"b"}));
  clock->advance(1s);
  EXPECT_TRUE(cache.keys_for(std::string("b"))->has_kid("b"));
}

TEST_F(JwksCacheTest, FailureWithoutSetThrowsAndBacksOff) {
  server.set_fail(true);
  JwksCache cache(uri, fetch(), exact());
  EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::string("a")); }).code(), errc::connect);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::string("a")); }).code(), errc::connect);
  EXPECT_EQ(server.requests.load(), 1);
  clock->advance(1s);
  (void)error_of([&] { (void)cache.keys_for(std::nullopt); });
  EXPECT_EQ(server.requests.load(), 2);
  clock->advance(1s);  // now 2 s of backoff
  (void)error_of([&] { (void)cache.keys_for(std::nullopt); });
  EXPECT_EQ(server.requests.load(), 2);
  server.set_fail(false);
  clock->advance(1s);
  EXPECT_TRUE(cache.keys_for(std::string("a"))->has_kid("a"));
  EXPECT_EQ(server.requests.load(), 3);
}

TEST_F(JwksCacheTest, HttpErrorAndWrongContentTypeAreTypedErrors) {
  server.status = 503;
  server.body = R"({"error":"temporarily_unavailable"})";
  {
    JwksCache cache(uri, fetch());
    const auto e = error_of([&] { (void)cache.keys_for(std::nullopt); });
    EXPECT_EQ(e.code(), errc::http_status);
    EXPECT_EQ(e.http_status(), 503);
  }
  server.status = 200;
  server.content_type = "text/html";
  server.body = "<html>";
  {
    JwksCache cache(uri, fetch());
    EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::nullopt); }).code(), errc::parse);
  }
  server.content_type = "application/jwk-set+json; charset=utf-8";
  server.body = jwks({"a"});
  {
    JwksCache cache(uri, fetch());
    EXPECT_TRUE(cache.keys_for(std::nullopt)->has_kid("a"));
  }
  server.content_type = "application/json";
  server.body = R"({"keys":{}})";
  {
    JwksCache cache(uri, fetch());
    EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::nullopt); }).code(), errc::parse);
  }
}

TEST_F(JwksCacheTest, DocumentOverTheCapIsRefused) {
  auto f = fetch();
  f.max_document_bytes = 1024;
  server.body = jwks(std::vector<std::string>(50, "k"));
  JwksCache cache(uri, f);
  EXPECT_EQ(error_of([&] { (void)cache.keys_for(std::nullopt); }).code(), errc::response_too_large);
}

TEST_F(JwksCacheTest, InsecureUriRefusedAtConstruction) {
  EXPECT_EQ(error_of([&] { JwksCache c("http://sso.example.com/certs", fetch()); }).code(), errc::insecure_url);
  EXPECT_EQ(error_of([&] { JwksCache c("ftp://sso.example.com/certs", fetch()); }).code(), errc::config);
  JwksCache loopback("http://127.0.0.1:8080/certs", fetch());
  EXPECT_TRUE(loopback.keys_for(std::nullopt));
}

TEST_F(JwksCacheTest, ConcurrentFirstCallsShareOneFetch) {
  std::mutex gm;
  std::condition_variable gcv;
  bool entered = false, open = false;
  auto f = fetch();
  f.transport = oidc::make_transport([&](const HttpRequest&) {
    ++server.requests;
    std::unique_lock<std::mutex> l(gm);
    entered = true;
    gcv.notify_all();
    gcv.wait(l, [&] { return open; });
    HttpResponse r;
    r.status = 200;
    r.headers.set("Content-Type", "application/json");
    r.body = jwks({"a"});
    return r;
  });
  JwksCache cache(uri, f);
  std::thread leader([&] { EXPECT_TRUE(cache.keys_for(std::string("a"))->has_kid("a")); });
  {
    std::unique_lock<std::mutex> l(gm);
    gcv.wait(l, [&] { return entered; });
  }
  std::vector<std::thread> waiters;
  for (int i = 0; i < 16; ++i)
    waiters.emplace_back([&, i] { EXPECT_TRUE(cache.keys_for("kid" + std::to_string(i % 3))); });
  while (cache.waiting() < 16) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> l(gm);
    open = true;
  }
  gcv.notify_all();
  leader.join();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(server.requests.load(), 1);
}

}  // namespace
