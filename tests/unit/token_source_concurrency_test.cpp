#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "oidc/client.hpp"
#include "oidc/token_source.hpp"

using namespace std::chrono_literals;

namespace {

// Starts all threads of a round at once, so they find the expired token together.
class StartGate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace

// Issue 3: any number of threads that find the token stale cause exactly one token request, and
// all of them receive its result. Run under ThreadSanitizer in CI.
TEST(TokenSourceConcurrency, SixtyFourThreadsAcrossManyExpiriesIssueOneRequestPerExpiry) {
  constexpr int kThreads = 64;
  constexpr int kRounds = 25;
  auto clock = std::make_shared<oidc_testing::FakeClock>();
  std::atomic<int> requests{0};

  oidc::ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.client_secret = "secret";
  c.clock = clock;
  c.transport = oidc::make_transport([&](const oidc::HttpRequest&) {
    const int n = ++requests;
    std::this_thread::yield();  // widen the window in which other threads pile up
    return oidc_testing::json_response(
        200, R"({"access_token":"t)" + std::to_string(n) + R"(","token_type":"Bearer","expires_in":300})");
  });
  auto source = oidc::Client(c).token_source(oidc::grants::ClientCredentials{"networks"});

  for (int round = 1; round <= kRounds; ++round) {
    StartGate gate;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, round] {
        gate.wait();
        for (int k = 0; k < 20; ++k)
          if (source->authorization_header() != "Bearer t" + std::to_string(round)) ++wrong;
      });
    }
    gate.open();
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0) << "round " << round;
    EXPECT_EQ(requests.load(), round) << "round " << round;
    clock->advance(300s);  // every token of the round is now expired
  }
}

TEST(TokenSourceConcurrency, AllWaitersReceiveTheSameFailureAndTheNextCallerRetries) {
  constexpr int kThreads = 64;
  auto clock = std::make_shared<oidc_testing::FakeClock>();
  std::atomic<int> requests{0};
  oidc::ClientConfig c;
  c.token_endpoint = "https://auth.example.com/token";
  c.client_id = "svc";
  c.clock = clock;
  c.transport = oidc::make_transport([&](const oidc::HttpRequest&) {
    if (++requests == 1) return oidc_testing::json_response(401, R"({"error":"invalid_client"})");
    return oidc_testing::json_response(200, R"({"access_token":"ok","expires_in":300})");
  });
  auto source = oidc::Client(c).token_source(oidc::grants::ClientCredentials{});

  StartGate gate;
  std::atomic<int> invalid_client{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      gate.wait();
      try {
        (void)source->authorization_header();
      } catch (const oidc::Error& e) {
        if (e.oauth_code() == "invalid_client") ++invalid_client;
      }
    });
  }
  gate.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(invalid_client.load(), kThreads);
  EXPECT_EQ(requests.load(), 1);
  clock->advance(1s);  // past the first backoff
  EXPECT_EQ(source->authorization_header(), "Bearer ok");
  EXPECT_EQ(requests.load(), 2);
}
