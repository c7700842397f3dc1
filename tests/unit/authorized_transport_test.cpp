#include "oidc/authorized_transport.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"

using namespace std::chrono_literals;
using oidc_testing::FakeTransport;

namespace {
oidc::HttpResponse status(int s) {
  oidc::HttpResponse r;
  r.status = s;
  return r;
}
}  // namespace

TEST(AuthorizedTransport, AddsTheHeaderToACopyOfTheRequest) {
  auto api = std::make_shared<FakeTransport>();
  api->push(status(200));
  oidc::Token t;
  t.access_token = "abc";
  t.token_type = "bearer";
  auto transport = oidc::make_authorized_transport(std::make_shared<oidc::StaticTokenSource>(t), api);
  oidc::HttpRequest req;
  req.method = "GET";
  req.url = "https://api.example.com/v1/networks";
  EXPECT_EQ(transport->send(req).status, 200);
  EXPECT_EQ(api->last().headers.get("Authorization"), "Bearer abc");
  EXPECT_FALSE(req.headers.contains("Authorization"));  // the caller's request is untouched
}

TEST(AuthorizedTransport, On401RenewsOnceAndRetries) {
  auto idp = std::make_shared<FakeTransport>();
  idp->push_json(200, R"({"access_token":"t1","expires_in":300})");
  idp->push_json(200, R"({"access_token":"t2","expires_in":300})");
  oidc::ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.client_secret = "s";
  c.transport = idp;
  c.clock = std::make_shared<oidc_testing::FakeClock>();
  auto source = oidc::Client(c).token_source(oidc::grants::ClientCredentials{});

  auto api = std::make_shared<FakeTransport>();
  api->push(status(401));
  api->push(status(200));
  api->push(status(401));
  api->push(status(401));
  auto transport = oidc::make_authorized_transport(source, api);
  oidc::HttpRequest req;
  req.method = "GET";
  req.url = "https://api.example.com/v1";
  EXPECT_EQ(transport->send(req).status, 200);
  const auto sent = api->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].headers.get("Authorization"), "Bearer t1");
  EXPECT_EQ(sent[1].headers.get("Authorization"), "Bearer t2");
  // A second 401 after the retry is the answer: no loop.
  idp->push_json(200, R"({"access_token":"t3","expires_in":300})");
  EXPECT_EQ(transport->send(req).status, 401);
  EXPECT_EQ(api->request_count(), 4u);
}

namespace {
// Counts token() calls, so a refusal can be shown to happen before any token is fetched.
class CountingSource final : public oidc::TokenSource {
 public:
  [[nodiscard]] std::shared_ptr<const oidc::Token> token() override {
    ++calls;
    return token_;
  }
  std::atomic<int> calls{0};

 private:
  std::shared_ptr<const oidc::Token> token_ = [] {
    oidc::Token t;
    t.access_token = "abc";
    return std::make_shared<const oidc::Token>(t);
  }();
};
}  // namespace

TEST(AuthorizedTransport, RefusesPlainHttpToNonLoopbackHostsBeforeFetchingAToken) {
  auto source = std::make_shared<CountingSource>();
  auto api = std::make_shared<FakeTransport>();
  auto transport = oidc::make_authorized_transport(source, api);
  oidc::HttpRequest req;
  req.method = "GET";
  req.url = "http://api.example.com/v1";
  try {
    (void)transport->send(req);
    ADD_FAILURE() << "http:// to a remote host was sent";
  } catch (const oidc::Error& e) {
    EXPECT_EQ(e.code(), oidc::errc::insecure_url);
  }
  EXPECT_EQ(source->calls.load(), 0);
  EXPECT_EQ(api->request_count(), 0u);

  api->push(status(200));
  req.url = "http://127.0.0.1:8080/v1";  // loopback: a local test server
  EXPECT_EQ(transport->send(req).status, 200);

  api->push(status(200));
  auto permissive = oidc::make_authorized_transport(source, api, /*allow_insecure_http=*/true);
  req.url = "http://api.example.com/v1";
  EXPECT_EQ(permissive->send(req).status, 200);
  EXPECT_EQ(api->last().headers.get("Authorization"), "Bearer abc");
}

// N requests refused with the same token: one renewal, not N (compare-and-drop invalidate).
TEST(AuthorizedTransport, ConcurrentRefusalsOfOneTokenCauseOneRenewal) {
  constexpr int kThreads = 16;
  std::atomic<int> issued{0};
  oidc::ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.client_secret = "s";
  c.clock = std::make_shared<oidc_testing::FakeClock>();
  c.transport = oidc::make_transport([&](const oidc::HttpRequest&) {
    const int n = ++issued;
    return oidc_testing::json_response(200, R"({"access_token":"t)" + std::to_string(n) + R"(","expires_in":300})");
  });
  auto source = oidc::Client(c).token_source(oidc::grants::ClientCredentials{});

  // Answers 401 to t1 only once all threads have sent it, so every thread is refused with t1.
  std::mutex m;
  std::condition_variable cv;
  int refused_arrivals = 0;
  auto api = oidc::make_transport([&](const oidc::HttpRequest& r) {
    oidc::HttpResponse response;
    if (r.headers.get("Authorization") != std::optional<std::string>("Bearer t1")) {
      response.status = 200;
      return response;
    }
    std::unique_lock<std::mutex> lock(m);
    ++refused_arrivals;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return refused_arrivals >= kThreads; });
    response.status = 401;
    return response;
  });
  auto transport = oidc::make_authorized_transport(source, api);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      oidc::HttpRequest req;
      req.method = "GET";
      req.url = "https://api.example.com/v1";
      if (transport->send(req).status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(refused_arrivals, kThreads);
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(issued.load(), 2);  // t1, then exactly one renewal
  EXPECT_EQ(source->renewals(), 2u);
}
