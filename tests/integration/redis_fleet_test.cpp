// The Redis token store, many processes: oidc_redis_racer processes (tests/support/redis_racer.cpp)
// share one RedisTokenStore on a redis-server of the test's own, against the embedded provider,
// whose refresh tokens are single-use (a second redemption is a recorded rejection). A fleet makes
// one token request per expiry; a lease holder that dies delays it only until the lease expires;
// with Redis stopped every process renews by itself, warns once, and re-attaches after a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/redis_token_store.hpp"
#include "racers.hpp"
#include "redis_server.hpp"

using namespace std::chrono_literals;

namespace {

using oidc::RedisTokenStore;
using oidc::Token;
using oidc::TokenKey;
using oidc_testing::LocalProvider;
using oidc_testing::RacerFleet;
using oidc_testing::RacerProcess;
using oidc_testing::RacerRound;
using Steady = std::chrono::steady_clock;

// Generous bounds: under TSan on a loaded 2-core machine a round of 20 processes takes seconds.
constexpr auto kStartBound = 60s;
constexpr auto kRoundBound = 60s;

class RedisFleetTest : public ::testing::Test {
 protected:
  // The racers' arguments; \p extra are NAME=VALUE options (tests/support/redis_racer.cpp).
  std::vector<std::string> racer_args(const std::string& mode, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {OIDC_REDIS_RACER, mode,   provider.token_endpoint(), std::to_string(redis.port()),
                                     kPrefix,          aes_key};
    if (mode == "client") {
      args.push_back("client_id=" + std::string(LocalProvider::kServiceClientId));
      args.push_back("client_secret=" + std::string(LocalProvider::kServiceClientSecret));
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // The test's own view of the fleet's store.
  std::shared_ptr<RedisTokenStore> store() const {
    oidc::RedisTokenStoreOptions o;
    o.port = redis.port();
    o.prefix = kPrefix;
    o.encryption_key = RedisTokenStore::decode_key(aes_key);
    return std::make_shared<RedisTokenStore>(o);
  }

  // A device login saved to the store under the racers' key (client device-client, grant
  // device_code, subject "racer"), as `oidc-token login` saves one; the request log is empty after.
  // Its clock starts at the real time plus \p skew and moves on by the polling interval, without
  // waiting: the login is stamped `skew` plus a few seconds off the racers' clocks (a minute
  // before them by default, as a login made earlier is).
  TokenKey save_device_login(std::chrono::seconds skew = -60s) {
    oidc::ClientConfig c;
    c.device_authorization_endpoint = provider.device_endpoint();
    c.token_endpoint = provider.token_endpoint();
    c.client_id = std::string(LocalProvider::kDeviceClientId);
    c.transport = oidc::make_curl_transport();
    c.clock = std::make_shared<oidc_testing::FakeClock>(std::chrono::system_clock::now() + skew);
    const oidc::Client client(c);  // gone before the provider: its destructor waits for idle connections
    provider.auto_approve_after_polls(0);
    const Token login = client.poll_device_token(client.device_authorization());
    EXPECT_TRUE(login.has_refresh_token());
    TokenKey key = client.token_key();
    key.grant = oidc::grants::DeviceCode::grant_type;
    key.subject = "racer";
    store()->save(key, login);
    login_digest = oidc_testing::racer_digest(login.access_token.expose());
    login_received_at = login.received_at;
    provider.clear_requests();
    return key;
  }

  std::size_t token_requests() const { return provider.request_count(LocalProvider::token_path()); }

  static constexpr const char* kPrefix = "oidc:fleet-test:";
  oidc_testing::RedisServer redis;
  LocalProvider provider;
  const std::string aes_key = RedisTokenStore::generate_key();
  std::string login_digest;
  Token::time_point login_received_at{};
};

// Every racer answered with a token and said nothing else; returns the set of digests.
std::set<std::string> digests_of(const std::vector<RacerRound>& answers, const std::string& context) {
  std::set<std::string> out;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const RacerRound& a = answers[i];
    EXPECT_FALSE(a.answer.empty()) << context << ": racer " << i << " did not answer in time";
    EXPECT_NE(a.answer.rfind("error", 0), 0u) << context << ": racer " << i << ": " << a.answer;
    for (const auto& w : a.warnings) ADD_FAILURE() << context << ": racer " << i << " warned: " << w;
    out.insert(a.answer);
  }
  return out;
}

TEST_F(RedisFleetTest, TwentyProcessesRedeemARotatingRefreshTokenOncePerExpiry) {
  const TokenKey key = save_device_login();
  RacerFleet fleet(20, racer_args("refresh"));
  std::string seen;
  ASSERT_TRUE(fleet.ready(Steady::now() + kStartBound, &seen)) << seen;

  std::set<std::string> held{login_digest};   // every token the fleet has held, the login's first
  std::set<std::string> redeemed;             // refresh tokens redeemed: each once
  std::string last;
  for (int round = 1; round <= 5; ++round) {
    const std::string context = "round " + std::to_string(round);
    const auto digests = digests_of(fleet.round(Steady::now() + kRoundBound), context);
    ASSERT_EQ(digests.size(), 1u) << context << ": the racers ended with different tokens";
    last = *digests.begin();
    EXPECT_TRUE(held.insert(last).second) << context << ": no racer renewed";
    const auto refreshes = provider.requests(LocalProvider::token_path());
    ASSERT_EQ(refreshes.size(), static_cast<std::size_t>(round)) << context << ": one refresh per round";
    EXPECT_EQ(refreshes.back().form_value("grant_type"), std::optional<std::string>("refresh_token"));
    EXPECT_TRUE(redeemed.insert(refreshes.back().form_value("refresh_token").value_or("")).second)
        << context << ": a refresh token was redeemed twice";
  }
  EXPECT_EQ(fleet.finish(Steady::now() + kRoundBound), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty()) << provider.rejections().front().error;
  // The store holds the token the fleet ended with (its rotated refresh token with it).
  const auto saved = store()->load(key);
  ASSERT_TRUE(saved);
  EXPECT_EQ(oidc_testing::racer_digest(saved->access_token.expose()), last);
}

// The login was made on a host whose clock is ahead of the fleet's (here: the login's clock is the
// real time plus the polls it skipped): the fleet still redeems its refresh token once per expiry.
// Replicas on several hosts never share one clock, so nothing may order their tokens by the
// received_at each one stamped.
TEST_F(RedisFleetTest, ALoginStampedAheadOfTheFleetsClocksIsStillRedeemedOncePerExpiry) {
  save_device_login(0s);
  ASSERT_GT(login_received_at, std::chrono::system_clock::now() + 1s) << "the login is not ahead of the racers";
  RacerFleet fleet(5, racer_args("refresh"));
  std::string seen;
  ASSERT_TRUE(fleet.ready(Steady::now() + kStartBound, &seen)) << seen;
  for (int round = 1; round <= 2; ++round) {
    const std::string context = "round " + std::to_string(round);
    EXPECT_EQ(digests_of(fleet.round(Steady::now() + kRoundBound), context).size(), 1u) << context;
    EXPECT_EQ(token_requests(), static_cast<std::size_t>(round)) << context << ": one refresh per round";
  }
  EXPECT_EQ(fleet.finish(Steady::now() + kRoundBound), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty()) << provider.rejections().front().error;
}

TEST_F(RedisFleetTest, ALeaseHolderKilledMidRenewalHoldsTheFleetOnlyUntilTheLeaseExpires) {
  constexpr auto kLease = 1000ms;
  const std::string lease_option = "lease_ttl_ms=" + std::to_string(kLease.count());
  const TokenKey key = save_device_login();
  RacerFleet fleet(10, racer_args("refresh", {lease_option}));
  std::string seen;
  ASSERT_TRUE(fleet.ready(Steady::now() + kStartBound, &seen)) << seen;

  // A replica takes the lease to renew and dies before it saves or releases it.
  const auto spawned = Steady::now();
  RacerProcess holder(racer_args("hold", {lease_option}));
  ASSERT_EQ(holder.read_line(Steady::now() + kStartBound), std::optional<std::string>("holding"));
  const auto held_at = Steady::now();
  std::string lease = RedisTokenStore::record_key(kPrefix, key);
  lease.replace(lease.size() - std::string(":token").size(), std::string::npos, ":lease");
  const long long pttl = redis.client().integer({"PTTL", lease});
  EXPECT_GT(pttl, 0) << "no lease with an expiry at " << lease;
  EXPECT_LE(pttl, kLease.count());
  holder.kill();

  const auto digests = digests_of(fleet.round(Steady::now() + kRoundBound), "after the kill");
  const auto done = Steady::now();
  ASSERT_EQ(digests.size(), 1u) << "the racers ended with different tokens";
  EXPECT_NE(*digests.begin(), login_digest) << "no racer renewed";
  EXPECT_EQ(token_requests(), 1u) << "exactly one racer renews once the lease is gone";
  // They waited for the dead holder's lease (taken after the spawn) to expire, and not much longer.
  EXPECT_GE(done - spawned, kLease) << "the racers did not wait for the lease";
  EXPECT_LT(done - held_at, kLease + 20s) << "waiting outlasted the lease by far";

  // The fleet goes on as before: one refresh for the next expiry.
  const auto next = digests_of(fleet.round(Steady::now() + kRoundBound), "the round after");
  EXPECT_EQ(next.size(), 1u);
  EXPECT_EQ(token_requests(), 2u);
  EXPECT_EQ(fleet.finish(Steady::now() + kRoundBound), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty()) << provider.rejections().front().error;
}

// The holder dies with its token request in flight (the provider holds the response): its lease
// stops being extended and expires, and exactly one of the others renews; the rest pick that up.
TEST_F(RedisFleetTest, ALeaseHolderKilledWithItsRequestInFlightIsReplacedByOneRenewal) {
  constexpr auto kLease = 1000ms;
  const std::string lease_option = "lease_ttl_ms=" + std::to_string(kLease.count());
  LocalProvider::Response stalled = LocalProvider::Response::json(200, "{}");
  stalled.delay = 60s;  // never answered in this test: the provider's stop cuts it short
  provider.enqueue(std::string(LocalProvider::token_path()), stalled);

  RacerProcess holder(racer_args("client", {lease_option}));
  ASSERT_EQ(holder.read_line(Steady::now() + kStartBound), std::optional<std::string>("ready"));
  RacerFleet fleet(9, racer_args("client", {lease_option}));
  std::string seen;
  ASSERT_TRUE(fleet.ready(Steady::now() + kStartBound, &seen)) << seen;

  holder.go();  // takes the lease and sends the request the provider holds
  // The request's arrival is the provider's doing, on its own thread: polled, bounded.
  const auto give_up = Steady::now() + kRoundBound;
  while (token_requests() == 0 && Steady::now() < give_up) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(token_requests(), 1u) << "the holder's request did not arrive";
  const auto killed_at = Steady::now();
  holder.kill();

  const auto digests = digests_of(fleet.round(Steady::now() + kRoundBound), "after the kill");
  ASSERT_EQ(digests.size(), 1u) << "the racers ended with different tokens";
  EXPECT_EQ(token_requests(), 2u) << "the dead holder's request and exactly one renewal";
  // Extended every third of it until the kill, the lease outlived the holder by 2/3 to 3/3 of it.
  EXPECT_GE(Steady::now() - killed_at, kLease / 2) << "the racers did not wait for the dead holder's lease";
  EXPECT_LT(Steady::now() - killed_at, kLease + 20s) << "waiting outlasted the lease by far";
  EXPECT_EQ(fleet.finish(Steady::now() + kRoundBound), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty()) << provider.rejections().front().error;
}

TEST_F(RedisFleetTest, RedisStoppedAndRestartedMidRunEachRenewsAloneWarnsOnceAndReattaches) {
  constexpr std::size_t kRacers = 10;
  RacerFleet fleet(static_cast<int>(kRacers), racer_args("client", {"retry_ms=200"}));
  std::string seen;
  ASSERT_TRUE(fleet.ready(Steady::now() + kStartBound, &seen)) << seen;
  std::vector<std::size_t> warnings(kRacers, 0);
  const auto run_round = [&](const std::string& context, bool* all_reattached = nullptr) {
    const auto answers = fleet.round(Steady::now() + kRoundBound);
    std::set<std::string> digests;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      EXPECT_FALSE(answers[i].answer.empty()) << context << ": racer " << i << " did not answer in time";
      EXPECT_NE(answers[i].answer.rfind("error", 0), 0u) << context << ": racer " << i << ": " << answers[i].answer;
      for (const auto& w : answers[i].warnings) {
        ++warnings[i];
        EXPECT_EQ(warnings[i], 1u) << context << ": racer " << i << " warned again: " << w;
        EXPECT_NE(w.find(std::to_string(redis.port())), std::string::npos) << "the warning names the server: " << w;
      }
      if (all_reattached) all_reattached[i] = all_reattached[i] || answers[i].reattached;
      digests.insert(answers[i].answer);
    }
    return digests;
  };

  std::size_t before = token_requests();
  for (int round = 1; round <= 2; ++round) {
    EXPECT_EQ(run_round("attached, round " + std::to_string(round)).size(), 1u);
    EXPECT_EQ(token_requests() - before, 1u) << "attached, round " << round;
    before = token_requests();
  }
  EXPECT_EQ(warnings, std::vector<std::size_t>(kRacers, 0));

  redis.stop();
  for (int round = 1; round <= 3; ++round) {
    const std::string context = "Redis down, round " + std::to_string(round);
    EXPECT_EQ(run_round(context).size(), kRacers) << context << ": each renews by itself";
    EXPECT_EQ(token_requests() - before, kRacers) << context;
    before = token_requests();
  }
  EXPECT_EQ(warnings, std::vector<std::size_t>(kRacers, 1)) << "one warning each for the outage";

  // Back (empty: no persistence). Each racer tries Redis again retry_ms after its last attempt,
  // on its next call: rounds go on until every one has re-attached.
  redis.start();
  bool reattached[kRacers] = {};
  const auto give_up = Steady::now() + 60s;
  int transition = 0;
  for (; std::count(reattached, reattached + kRacers, true) < static_cast<long>(kRacers); ++transition) {
    ASSERT_LT(Steady::now(), give_up) << "not every racer re-attached within 60 s (" << transition << " rounds)";
    before = token_requests();
    run_round("re-attaching, round " + std::to_string(transition + 1), reattached);
    EXPECT_LE(token_requests() - before, kRacers) << "re-attaching, round " << transition + 1;
  }
  // All attached, but still holding different tokens (the ones they got alone): a racer takes the
  // stored token when it is not its own, and the one whose token it is renews, so the fleet agrees
  // again within a few rounds, each with at most one request; then one request per expiry again.
  int settling = 0;
  for (std::size_t held = kRacers; held > 1; ++settling) {
    ASSERT_LT(settling, 10) << "the fleet still held " << held << " different tokens after 10 rounds";
    before = token_requests();
    held = run_round("all re-attached, round " + std::to_string(settling + 1)).size();
    EXPECT_LE(token_requests() - before, 1u) << "all re-attached, round " << settling + 1;
  }
  before = token_requests();
  for (int round = 1; round <= 3; ++round) {
    const std::string context = "re-attached, round " + std::to_string(round);
    EXPECT_EQ(run_round(context).size(), 1u) << context;
    EXPECT_EQ(token_requests() - before, 1u) << context;
    before = token_requests();
  }
  EXPECT_EQ(warnings, std::vector<std::size_t>(kRacers, 1)) << "no further warning after the outage";
  EXPECT_EQ(fleet.finish(Steady::now() + kRoundBound), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty()) << provider.rejections().front().error;
}

// Two replicas in one process, to order what the outage test above leaves to chance: B locked
// while Redis was down (an in-process lock, no fence) and saves after Redis is back, while A holds
// a live lease. A's lease never expired, so its save must not be refused (a refusal means "your
// lease expired and another replica took over", and is a second warning for one outage).
TEST_F(RedisFleetTest, ASaveUnderALockTakenWhileRedisWasDownLeavesALiveLeaseItsSave) {
  std::vector<oidc::Error> b_errors;
  oidc::RedisTokenStoreOptions o;
  o.port = redis.port();
  o.prefix = kPrefix;
  o.encryption_key = RedisTokenStore::decode_key(aes_key);
  o.retry_interval = 1ms;  // B tries Redis again on its next command once it is back
  o.on_error = [&](const oidc::Error& e) { b_errors.push_back(e); };
  RedisTokenStore b(o);
  const TokenKey key{"", provider.token_endpoint(), "svc", "client_credentials", "", "", ""};
  const auto token_of = [](const std::string& access) {
    Token t;
    t.access_token = access;
    t.token_type = "Bearer";
    t.received_at = std::chrono::system_clock::now();
    t.expiry = t.received_at + 300s;
    return t;
  };

  redis.stop();
  const auto b_lock = b.lock(key, 5s, {});  // degraded: this process's lock alone
  ASSERT_TRUE(b_lock);
  EXPECT_FALSE(b.attached());
  ASSERT_EQ(b_errors.size(), 1u);
  redis.start();

  const auto a = store();
  const auto a_lease = a->lock(key, 5s, {});
  ASSERT_TRUE(a_lease);
  b.save_locked(key, token_of("renewed-alone-by-b"), *b_lock);
  EXPECT_NO_THROW(a->save_locked(key, token_of("renewed-by-a"), *a_lease)) << "A's live lease was refused its save";
  const auto saved = a->load(key);
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->access_token.expose(), "renewed-by-a");
  EXPECT_EQ(b_errors.size(), 1u) << "B warned again: " << b_errors.back().what();
}

}  // namespace
