#include "oidc/detail/single_flight.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "oidc/detail/backoff.hpp"

namespace {

using namespace std::chrono_literals;
using oidc::errc;
using oidc::Error;
using oidc::detail::Backoff;
using oidc::detail::BackoffPolicy;
using oidc::detail::RefreshingValue;
using oidc_testing::error_of;
using oidc_testing::FakeClock;

using Cache = RefreshingValue<std::string>;

Cache::Fetched value(std::string v, std::optional<std::chrono::seconds> max_age = std::nullopt) {
  return {std::make_shared<const std::string>(std::move(v)), max_age};
}

const auto no_extra = [](const std::string&) { return false; };

// A fetch that blocks until released, so a test can line callers up behind it.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, open = false;
  void enter_and_wait() {
    std::unique_lock<std::mutex> l(m);
    entered = true;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
  }
  void wait_entered() {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return entered; });
  }
  void release() {
    std::lock_guard<std::mutex> l(m);
    open = true;
    cv.notify_all();
  }
};

TEST(Backoff, DoublesFromMinToMaxAndJitterShortens) {
  Backoff b;
  BackoffPolicy p{1000ms, 8000ms, 0.5, [] { return 0.0; }};
  EXPECT_EQ(b.record_failure(p, false), 1000ms);
  EXPECT_EQ(b.record_failure(p, false), 2000ms);
  EXPECT_EQ(b.record_failure(p, false), 4000ms);
  EXPECT_EQ(b.record_failure(p, false), 8000ms);
  EXPECT_EQ(b.record_failure(p, false), 8000ms);
  EXPECT_EQ(b.failures(), 5u);
  b.reset();
  p.random_fraction = [] { return 1.0; };
  EXPECT_EQ(b.record_failure(p, false), 500ms);  // cut by jitter * 1.0
  EXPECT_EQ(b.record_failure(p, true), 4000ms);  // permanent: max at once, jittered
}

TEST(Backoff, FailingRandomSourceStillBacksOff) {
  Backoff b;
  BackoffPolicy p{1000ms, 8000ms, 0.5, []() -> double { throw std::runtime_error("no entropy"); }};
  EXPECT_EQ(b.record_failure(p, false), 1000ms);
}

TEST(RefreshingValue, FetchesOnceThenServesUntilExpiry) {
  FakeClock clock;
  Cache cache;
  Cache::Policy policy;
  int fetches = 0;
  auto fetch = [&] { return value("v" + std::to_string(++fetches)); };
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v1");
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v1");
  clock.advance(24h - 1s);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v1");
  clock.advance(1s);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v2");
  EXPECT_EQ(cache.fetches(), 2u);
}

TEST(RefreshingValue, MaxAgeShortensLifetimeBoundedBelow) {
  FakeClock clock;
  Cache cache;
  Cache::Policy policy;  // min_lifetime 60 s
  int fetches = 0;
  auto fetch = [&] { return value("v" + std::to_string(++fetches), std::chrono::seconds{0}); };
  (void)cache.get(clock, policy, fetch, no_extra, "op");
  clock.advance(59s);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v1");
  clock.advance(1s);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "v2");
}

TEST(RefreshingValue, ExtraReasonIsRateLimited) {
  FakeClock clock;
  Cache cache;
  Cache::Policy policy;  // min_refetch 60 s
  int fetches = 0;
  auto fetch = [&] { return value("v" + std::to_string(++fetches)); };
  const auto always = [](const std::string&) { return true; };
  (void)cache.get(clock, policy, fetch, always, "op");  // first fetch: no value yet
  for (int i = 0; i < 100; ++i) (void)cache.get(clock, policy, fetch, always, "op");
  EXPECT_EQ(fetches, 1);
  clock.advance(60s);
  for (int i = 0; i < 100; ++i) (void)cache.get(clock, policy, fetch, always, "op");
  EXPECT_EQ(fetches, 2);
}

TEST(RefreshingValue, FailureWithoutValueThrowsAndBacksOff) {
  FakeClock clock;
  Cache cache;
  Cache::Policy policy;
  policy.backoff = {1000ms, 8000ms, 0.0, {}};
  int attempts = 0;
  auto failing = [&]() -> Cache::Fetched {
    ++attempts;
    throw Error(errc::connect, "op", "refused");
  };
  EXPECT_EQ(error_of([&] { (void)cache.get(clock, policy, failing, no_extra, "op"); }).code(), errc::connect);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(error_of([&] { (void)cache.get(clock, policy, failing, no_extra, "op"); }).code(), errc::connect);
  EXPECT_EQ(attempts, 1);
  clock.advance(1s);
  (void)error_of([&] { (void)cache.get(clock, policy, failing, no_extra, "op"); });
  EXPECT_EQ(attempts, 2);
  clock.advance(1s);  // second failure: 2 s
  (void)error_of([&] { (void)cache.get(clock, policy, failing, no_extra, "op"); });
  EXPECT_EQ(attempts, 2);
  clock.advance(1s);
  (void)error_of([&] { (void)cache.get(clock, policy, failing, no_extra, "op"); });
  EXPECT_EQ(attempts, 3);
}

TEST(RefreshingValue, FailedRefetchServesPreviousUntilMaxStale) {
  FakeClock clock;
  Cache cache;
  Cache::Policy policy;
  policy.max_lifetime = 1h;
  policy.max_stale = 2h;
  bool fail = false;
  auto fetch = [&]() -> Cache::Fetched {
    if (fail) throw Error(errc::timeout, "op", "slow");
    return value("good");
  };
  (void)cache.get(clock, policy, fetch, no_extra, "op");
  fail = true;
  clock.advance(1h);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "good");
  clock.advance(1h);
  EXPECT_EQ(*cache.get(clock, policy, fetch, no_extra, "op"), "good");  // exactly max_stale old
  clock.advance(1s);
  EXPECT_EQ(error_of([&] { (void)cache.get(clock, policy, fetch, no_extra, "op"); }).code(), errc::timeout);
}

TEST(RefreshingValue, ForeignExceptionBecomesError) {
  FakeClock clock;
  Cache cache;
  auto fetch = []() -> Cache::Fetched { throw std::runtime_error("boom\x1b[2J"); };
  const auto e = error_of([&] { (void)cache.get(clock, {}, fetch, no_extra, "op"); });
  EXPECT_EQ(e.code(), errc::transport);
  EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos);
}

TEST(RefreshingValue, ConcurrentCallersShareOneFetch) {
  FakeClock clock;
  Cache cache;
  Gate gate;
  std::atomic<int> fetches{0};
  auto fetch = [&] {
    ++fetches;
    gate.enter_and_wait();
    return value("shared");
  };
  std::thread leader([&] { EXPECT_EQ(*cache.get(clock, {}, fetch, no_extra, "op"), "shared"); });
  gate.wait_entered();
  constexpr std::size_t n = 8;
  std::vector<std::thread> waiters;
  for (std::size_t i = 0; i < n; ++i)
    waiters.emplace_back([&] { EXPECT_EQ(*cache.get(clock, {}, fetch, no_extra, "op"), "shared"); });
  while (cache.waiting() < n) std::this_thread::yield();
  gate.release();
  leader.join();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(fetches.load(), 1);
}

TEST(RefreshingValue, WaiterTimeoutDoesNotAbortTheFetch) {
  FakeClock clock;
  Cache cache;
  Gate gate;
  auto fetch = [&] {
    gate.enter_and_wait();
    return value("late");
  };
  std::thread leader([&] { EXPECT_EQ(*cache.get(clock, {}, fetch, no_extra, "op"), "late"); });
  gate.wait_entered();
  Cache::Policy impatient;
  impatient.max_wait = 1ms;  // real time: a wait on another thread
  EXPECT_EQ(error_of([&] { (void)cache.get(clock, impatient, fetch, no_extra, "op"); }).code(),
            errc::deadline_exceeded);
  gate.release();
  leader.join();
  EXPECT_EQ(*cache.get(clock, {}, fetch, no_extra, "op"), "late");
  EXPECT_EQ(cache.fetches(), 1u);
}

TEST(RefreshingValue, WaitersGetTheLeadersError) {
  FakeClock clock;
  Cache cache;
  Gate gate;
  auto fetch = [&]() -> Cache::Fetched {
    gate.enter_and_wait();
    throw Error(errc::http_status, "op", "503");
  };
  std::thread leader([&] { EXPECT_EQ(error_of([&] { (void)cache.get(clock, {}, fetch, no_extra, "op"); }).code(), errc::http_status); });
  gate.wait_entered();
  std::thread waiter([&] { EXPECT_EQ(error_of([&] { (void)cache.get(clock, {}, fetch, no_extra, "op"); }).code(), errc::http_status); });
  while (cache.waiting() < 1) std::this_thread::yield();
  gate.release();
  leader.join();
  waiter.join();
  EXPECT_EQ(cache.fetches(), 1u);
}

}  // namespace
