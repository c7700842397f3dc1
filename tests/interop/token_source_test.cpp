// CachingTokenSource against the real provider, the real libcurl transport and the real clock:
// cc-short's access tokens really expire at the provider after kShortTtl seconds, and the
// provider's own counters say how many token requests were made.
//
// Each client is used by one test only: CTest runs discovered tests as separate processes, in
// parallel under -j, and the provider counts requests per client.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "interop_support.hpp"
#include "message_hygiene.hpp"
#include "oidc/client.hpp"
#include "oidc/error.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"

namespace {

using namespace std::chrono_literals;
using oidc_interop::kCcShort;
using oidc_interop::kCcShortB;
using oidc_interop::kShortTtl;
using oidc_interop::Provider;
using SysClock = std::chrono::system_clock;

// The provider's exp (RFC 7662 "exp", seconds since the epoch) as a time point: the token is
// inactive from that instant on (oidc-provider: exp <= now, in whole seconds).
SysClock::time_point exp_of(const nlohmann::json& introspection) {
  return SysClock::time_point(std::chrono::seconds(introspection.at("exp").get<long long>()));
}

double seconds(SysClock::duration d) { return std::chrono::duration<double>(d).count(); }

// The timing rule of token_source.hpp for a kShortTtl token with default options: skew and
// refresh_ahead (30 s each) are capped at a quarter of the lifetime, safety_margin (5 s) at a
// twentieth.
constexpr auto kLifetime = std::chrono::seconds(kShortTtl);
constexpr auto kSkew = std::chrono::duration_cast<std::chrono::milliseconds>(kLifetime) / 4;
constexpr auto kRefreshAhead = kSkew;
constexpr auto kRenewAfter = std::chrono::duration_cast<std::chrono::milliseconds>(kLifetime) - kSkew - kRefreshAhead;
constexpr auto kStaleAfter = std::chrono::duration_cast<std::chrono::milliseconds>(kLifetime) - kSkew;
constexpr auto kSafetyMargin = std::chrono::duration_cast<std::chrono::milliseconds>(kLifetime) / 20;

// One hand-out run by one thread: the same token from `first` to `last` (times taken after the
// call returned, so each is no earlier than the hand-out itself).
struct Handouts {
  std::string token;
  SysClock::time_point first, last;
};

// 16 threads take tokens as fast as they can for kRun while the tokens expire under them.
TEST(InteropTokenSource, SixteenThreadsGetOneRenewalPerHalfLifetimeAndOnlyLiveTokens) {
  const auto& provider = Provider::get();
  const oidc::Client client(provider.config(kCcShort));
  const int before = provider.token_requests(kCcShort, "client_credentials");
  auto source = client.token_source(oidc::grants::ClientCredentials{"api:read"});

  constexpr int kThreads = 16;
  constexpr auto kRun = 10s;
  std::atomic<bool> stop{false};
  std::atomic<long long> handouts{0};
  std::mutex m;
  std::vector<std::string> errors;                                  // guarded by m
  std::set<std::string> seen;                                       // guarded by m
  std::deque<std::pair<std::string, SysClock::time_point>> fresh;   // first sightings, guarded by m
  std::vector<std::vector<Handouts>> runs(kThreads);
  std::atomic<long long> late{0};  // hand-outs at or after the rule's stale point

  const auto start = SysClock::now();
  const std::string first_token = source->token()->access_token.expose();
  {
    std::lock_guard<std::mutex> lock(m);
    seen.insert(first_token);
    fresh.emplace_back(first_token, SysClock::now());
  }

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto& mine = runs[static_cast<std::size_t>(i)];
      long long n = 0;
      const auto record = [&](std::string_view token) {
        const auto now = SysClock::now();
        if (mine.empty() || mine.back().token != token) {
          mine.push_back(Handouts{std::string(token), now, now});
          std::lock_guard<std::mutex> lock(m);
          if (seen.insert(mine.back().token).second) fresh.emplace_back(mine.back().token, now);
        } else {
          mine.back().last = now;
        }
      };
      try {
        while (!stop.load(std::memory_order_relaxed)) {
          if (++n % 2 == 0) {
            const auto before_call = SysClock::now();
            const auto t = source->token();
            // The source's own promise: never handed out at or after the stale point (received +
            // lifetime - skew'), where callers wait for the renewal instead.
            if (!t->expiry || before_call >= *t->expiry - kSkew) late.fetch_add(1, std::memory_order_relaxed);
            record(t->access_token.expose());
          } else {
            const std::string h = source->authorization_header();
            if (h.rfind("Bearer ", 0) != 0) throw std::runtime_error("not a Bearer header");
            record(std::string_view(h).substr(7));
          }
          std::this_thread::yield();
        }
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(m);
        errors.emplace_back(e.what());
      }
      handouts.fetch_add(n, std::memory_order_relaxed);
    });
  }

  // Meanwhile: each new token is asked about at the provider as soon as it is first seen, and the
  // first token once the provider's clock has passed its exp.
  std::map<std::string, nlohmann::json> introspected;
  bool expiry_checked = false;
  const auto deadline = start + kRun;
  const auto drain = [&] {
    for (;;) {
      std::pair<std::string, SysClock::time_point> next;
      {
        std::lock_guard<std::mutex> lock(m);
        if (fresh.empty()) return;
        next = std::move(fresh.front());
        fresh.pop_front();
      }
      auto info = provider.introspect(next.first);
      EXPECT_EQ(info.value("active", false), true)
          << "a token was inactive at the provider " << seconds(SysClock::now() - next.second)
          << " s after it was first handed out";
      introspected.emplace(next.first, std::move(info));
    }
  };
  while (SysClock::now() < deadline) {
    drain();
    const auto it = introspected.find(first_token);
    if (!expiry_checked && it != introspected.end() && it->second.contains("exp") &&
        SysClock::now() > exp_of(it->second) + 200ms) {
      // Real expiry: the token kept past its lifetime is dead at the provider, while the source
      // serves another one that is alive.
      expiry_checked = true;
      EXPECT_EQ(provider.introspect(first_token).value("active", true), false);
      const std::string now_served = source->token()->access_token.expose();
      EXPECT_NE(now_served, first_token);
      EXPECT_EQ(provider.introspect(now_served).value("active", false), true);
    }
    std::this_thread::yield();
  }
  stop = true;
  const auto stopped = SysClock::now();
  for (auto& t : threads) t.join();
  const auto joined = SysClock::now();
  drain();
  // A renewal started by the last hand-outs may still be in flight; it counts, so let it land.
  const auto settle = SysClock::now() + 10s;
  while (source->renewing() && SysClock::now() < settle) std::this_thread::yield();
  ASSERT_FALSE(source->renewing());
  const int requests = provider.token_requests(kCcShort, "client_credentials") - before;

  for (const auto& e : errors) ADD_FAILURE() << "a thread got an error: " << e;
  EXPECT_TRUE(expiry_checked) << "the first token never reached its exp during the run";
  EXPECT_EQ(late.load(), 0) << "hand-outs at or after the stale point";

  // Every hand-out of every token came before the provider's own exp for it: times are taken
  // after each call returned, so each is an upper bound of its hand-out.
  std::map<std::string, SysClock::time_point> last_handout;
  for (const auto& mine : runs)
    for (const auto& r : mine) last_handout[r.token] = std::max(last_handout[r.token], r.last);
  for (const auto& [token, last] : last_handout) {
    const auto it = introspected.find(token);
    ASSERT_NE(it, introspected.end());
    ASSERT_TRUE(it->second.contains("exp"));
    EXPECT_LT(seconds(last - exp_of(it->second)), 0.0) << "seconds from the provider's exp to a hand-out";
  }

  // Bounds from the timing rule (token_source.hpp), lifetime L = kShortTtl, skew' = refresh_ahead'
  // = L/4, received_at = when the request was sent:
  // - at most one request per L/2: a renewal starts no earlier than the current token's renew_at
  //   = received + L - skew' - refresh_ahead' = received + L/2 (min_interval, 1 s, is weaker), so
  //   a run of R seconds has at most 1 + R/(L/2) requests; +1 of slack for a request at the very
  //   end and the rounding of R;
  // - at least R/(L - skew'): no token is handed out at or after its stale point received + 3L/4
  //   (callers wait for the renewal instead), and every instant of the run had a hand-out, so the
  //   run needs that many tokens (and each token is one request).
  // R is taken short for the lower bound (until the stop) and long for the upper one (until every
  // thread had returned), so that neither is loosened by how R is measured.
  const double r = seconds(stopped - start), r_long = seconds(joined - start);
  const double renew_after = std::chrono::duration<double>(kRenewAfter).count();
  const double stale_after = std::chrono::duration<double>(kStaleAfter).count();
  const int lower = static_cast<int>(std::ceil(r / stale_after));
  const int upper = 1 + static_cast<int>(std::floor(r_long / renew_after)) + 1;
  EXPECT_GE(requests, lower);
  EXPECT_LE(requests, upper) << "a renewal storm";
  // One request per renewal, and each token obtained was handed out (the last one at least once,
  // unless it landed after the threads stopped).
  EXPECT_EQ(static_cast<std::uint64_t>(requests), source->renewals());
  EXPECT_GE(static_cast<int>(seen.size()), requests - 1);
  EXPECT_LE(static_cast<int>(seen.size()), requests);
  std::printf("[ figures  ] run %.2f s, %lld hand-outs, %d token requests (bounds %d..%d), %zu tokens served\n", r,
              handouts.load(), requests, lower, upper, seen.size());
}

// A transport that fails its first `failures` requests before sending anything, as an unreachable
// provider would, and records when each request was attempted.
class FlakyTransport final : public oidc::Transport {
 public:
  FlakyTransport(std::shared_ptr<oidc::Transport> base, int failures) : base_(std::move(base)), failing_(failures) {}

  // Starts failing: the next `failures` requests.
  void fail_next(int failures) {
    std::lock_guard<std::mutex> lock(m_);
    failing_ = failures;
  }

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    {
      std::lock_guard<std::mutex> lock(m_);
      attempts_.push_back(SysClock::now());
      if (failing_ > 0) {
        --failing_;
        throw oidc::Error(oidc::errc::connect, "test transport", "connection refused (the test's switch)");
      }
    }
    return base_->send(request);
  }

  std::vector<SysClock::time_point> attempts() const {
    std::lock_guard<std::mutex> lock(m_);
    return attempts_;
  }

 private:
  std::shared_ptr<oidc::Transport> base_;
  mutable std::mutex m_;
  int failing_;
  std::vector<SysClock::time_point> attempts_;
};

// The provider is unreachable for the source from the first renewal on: the source keeps serving
// its token while it is usable, backs off between attempts, fails fast once the token is no
// longer usable, and recovers when requests get through again.
TEST(InteropTokenSource, FailedRenewalsBackOffWhileTheTokenIsServedAndRecover) {
  const auto& provider = Provider::get();
  auto config = provider.config(kCcShortB);
  auto flaky = std::make_shared<FlakyTransport>(config.transport, 0);
  config.transport = flaky;
  const oidc::Client client(config);
  const int before = provider.token_requests(kCcShortB, "client_credentials");

  oidc::TokenSourceOptions options;
  std::atomic<int> reported{0};
  options.on_error = [&](const oidc::Error&) { reported.fetch_add(1); };
  const auto min_backoff = options.min_backoff;
  const double jitter = options.backoff_jitter;
  auto source = client.token_source(oidc::grants::ClientCredentials{"api:read"}, std::move(options));

  const auto first = source->token();
  const std::string first_token = first->access_token.expose();
  ASSERT_TRUE(first->expiry);
  const auto usable_until = *first->expiry - kSafetyMargin;
  // Three renewals fail: backoffs of 1, 2 and 4 s (min_backoff doubling, minus up to 25 % jitter),
  // so the fourth attempt, which gets through, comes 4.25 to 7 s after the first at renew_at.
  constexpr int kFailures = 3;
  flaky->fail_next(kFailures);

  constexpr int kThreads = 4;
  std::atomic<bool> stop{false};
  std::atomic<bool> recovered{false};
  std::mutex m;
  std::vector<std::string> problems;  // the first 20, guarded by m
  std::atomic<long long> problem_count{0};
  const auto problem = [&](std::string what) {  // with m held
    if (problem_count.fetch_add(1) < 20) problems.push_back(std::move(what));
  };
  std::vector<oidc::Error> failures;  // the first 1000, guarded by m
  std::atomic<long long> failed_calls{0};
  std::atomic<long long> served_first{0}, served_other{0};
  std::atomic<SysClock::rep> last_first{0};  // the last hand-out of the first token (after the call)
  std::atomic<long long> slowest_failure_us{0};
  std::string second_token;  // guarded by m
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto before_call = SysClock::now();
        try {
          const auto t = source->token();
          if (t->access_token.equals(first_token)) {
            served_first.fetch_add(1, std::memory_order_relaxed);
            const auto at = SysClock::now().time_since_epoch().count();
            auto prev = last_first.load();
            while (at > prev && !last_first.compare_exchange_weak(prev, at)) {
            }
            // Served while usable only: the source's clock read lies between these two.
            if (before_call >= usable_until) {
              std::lock_guard<std::mutex> lock(m);
              problem("the first token was served " + std::to_string(seconds(before_call - usable_until)) +
                                 " s after its usable_until");
            }
          } else {
            served_other.fetch_add(1, std::memory_order_relaxed);
            std::lock_guard<std::mutex> lock(m);
            if (second_token.empty()) second_token = t->access_token.expose();
            recovered = true;
          }
        } catch (const oidc::Error& e) {
          const auto after_call = SysClock::now();
          const auto took = std::chrono::duration_cast<std::chrono::microseconds>(after_call - before_call).count();
          long long prev = slowest_failure_us.load();
          while (took > prev && !slowest_failure_us.compare_exchange_weak(prev, took)) {
          }
          std::lock_guard<std::mutex> lock(m);
          // An error while the first token was still usable means it was dropped too early.
          if (after_call < usable_until)
            problem("an error " + std::to_string(seconds(usable_until - after_call)) +
                               " s before the token stopped being usable: " + e.what());
          failed_calls.fetch_add(1, std::memory_order_relaxed);
          if (failures.size() < 1000) failures.push_back(e);
        }
        std::this_thread::yield();
      }
    });
  }

  // While renewals fail and the token is still inside its stale point, it is alive at the
  // provider: the source is not serving a dead token.
  bool checked_alive = false;
  nlohmann::json first_info;
  const auto deadline = SysClock::now() + 15s;
  const auto stale = *first->expiry - kSkew;
  while (SysClock::now() < deadline && !recovered) {
    if (!checked_alive && flaky->attempts().size() >= 2 && SysClock::now() < stale - 300ms) {
      checked_alive = true;
      first_info = provider.introspect(first_token);
      EXPECT_EQ(first_info.value("active", false), true);
    }
    std::this_thread::yield();
  }
  // Keep asking a little longer: the new token is served, and no further request is made.
  const auto tail = SysClock::now() + 500ms;
  while (SysClock::now() < tail) std::this_thread::yield();
  stop = true;
  for (auto& t : threads) t.join();
  const int requests = provider.token_requests(kCcShortB, "client_credentials") - before;

  ASSERT_TRUE(recovered) << "no new token within 15 s of the first";
  EXPECT_EQ(problem_count.load(), 0);
  for (const auto& p : problems) ADD_FAILURE() << p;
  EXPECT_TRUE(checked_alive);
  EXPECT_GT(served_first.load(), 0);
  EXPECT_GT(served_other.load(), 0);

  // The initial request, kFailures failed renewals, one that got through: nothing else, and only
  // the two that got through reached the provider.
  const auto attempts = flaky->attempts();
  ASSERT_EQ(attempts.size(), static_cast<std::size_t>(1 + kFailures + 1));
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(reported.load(), kFailures);
  EXPECT_EQ(source->renewals(), static_cast<std::uint64_t>(1 + kFailures + 1));
  // The first renewal at renew_at (half the lifetime: callers were there), then backoffs of
  // min_backoff * 2^k shortened by at most `jitter`; the upper side allows 1 s of scheduling.
  const double renew_after = std::chrono::duration<double>(kRenewAfter).count();
  EXPECT_GE(seconds(attempts[1] - first->received_at), renew_after);
  EXPECT_LT(seconds(attempts[1] - first->received_at), renew_after + 1.0);
  std::string gaps;
  for (int k = 0; k < kFailures; ++k) {
    const double gap = seconds(attempts[static_cast<std::size_t>(k) + 2] - attempts[static_cast<std::size_t>(k) + 1]);
    const double base = std::chrono::duration<double>(min_backoff).count() * (1 << k);
    gaps += " " + std::to_string(gap);
    // 5 ms for the two clocks' reads (the source's, the transport's) around the jittered instant.
    EXPECT_GE(gap, base * (1.0 - jitter) - 0.005) << "backoff " << k;
    EXPECT_LT(gap, base + 1.0) << "backoff " << k;
  }

  // Once the token was no longer usable, callers got the transport's error at once (no waiting on
  // a renewal that is not due), with nothing secret in it.
  ASSERT_FALSE(failures.empty()) << "the outage outlasted the token, yet no caller saw it";
  for (const auto& e : failures) {
    EXPECT_EQ(e.code(), oidc::errc::connect) << e.what();
    EXPECT_TRUE(oidc_testing::is_clean(e, {kCcShortB.secret, first_token}));
  }
  EXPECT_LT(slowest_failure_us.load(), 1000000) << "a failing call waited";
  // Not asserted, by design: expires_in is whole seconds and oidc-provider's exp is
  // floor(issued) + ttl, so the source's expiry can be up to 1 s later than the provider's, and
  // usable_until (expiry - lifetime/20) may fall after the provider's exp.
  const double last_vs_exp =
      first_info.contains("exp")
          ? seconds(SysClock::time_point(SysClock::duration(last_first.load())) - exp_of(first_info))
          : 0.0;
  std::printf("[ figures  ] attempts %zu (first renewal %.2f s after receipt), backoffs%s s, %lld fast failures, "
              "%d requests at the provider; first token last served %+.3f s from the provider's exp, "
              "usable_until %+.3f s from it\n",
              attempts.size(), seconds(attempts[1] - first->received_at), gaps.c_str(), failed_calls.load(), requests,
              last_vs_exp, first_info.contains("exp") ? seconds(usable_until - exp_of(first_info)) : 0.0);
}

}  // namespace
