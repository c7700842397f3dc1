// The Redis fleet store (issue 17): 100 oidc_redis_racer processes (tests/support/redis_racer.cpp)
// share one RedisTokenStore on a loopback redis-server of this program's own, against the embedded
// provider. Per simulated expiry (all 100 drop their token and ask at once): how many token
// requests reach the provider (target exactly 1) and how long until all 100 hold the new token.
// In this process, in the same run: a cache hit that goes to Redis (RedisTokenStore::load of a
// present record) against the in-process hit (CachingTokenSource::token() on a fresh token), and
// the in-process hit again with Redis frozen (SIGSTOP), which must not wait for it.
//
//   build/bench/benchmarks/oidc_redis_fleet_benchmark            ratio lines last
//   OIDC_BENCH_FLEET_SIZE=20 build/bench/benchmarks/oidc_redis_fleet_benchmark
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "local_provider.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/redis_token_store.hpp"
#include "racers.hpp"
#include "redis_server.hpp"

namespace {

using oidc_testing::LocalProvider;
using Steady = std::chrono::steady_clock;

int fleet_size() {
  const char* n = std::getenv("OIDC_BENCH_FLEET_SIZE");
  return n && std::atoi(n) > 0 ? std::atoi(n) : 100;
}

// One server, one provider and one fleet for the whole program (starting 100 processes is not
// what is measured).
struct Fleet {
  oidc_testing::RedisServer redis;
  LocalProvider provider;
  const std::string prefix = "oidc:bench:";
  const std::string aes_key = oidc::RedisTokenStore::generate_key();
  oidc_testing::RacerFleet racers{fleet_size(),
                                  {OIDC_REDIS_RACER, "client", provider.token_endpoint(), std::to_string(redis.port()),
                                   prefix, aes_key, "client_id=" + std::string(LocalProvider::kServiceClientId),
                                   "client_secret=" + std::string(LocalProvider::kServiceClientSecret)}};

  // This process's store. A command to a frozen Redis waits command_timeout: 1 s here, so that a
  // hit that went to Redis stands far out of any scheduling delay of a loaded machine.
  std::shared_ptr<oidc::RedisTokenStore> store() const {
    oidc::RedisTokenStoreOptions o;
    o.command_timeout = std::chrono::milliseconds(1000);
    o.port = redis.port();
    o.prefix = prefix;
    o.encryption_key = oidc::RedisTokenStore::decode_key(aes_key);
    return std::make_shared<oidc::RedisTokenStore>(o);
  }
  oidc::ClientConfig client_config() const {
    oidc::ClientConfig c;
    c.token_endpoint = provider.token_endpoint();
    c.client_id = std::string(LocalProvider::kServiceClientId);
    c.client_secret = oidc::Secret(std::string(LocalProvider::kServiceClientSecret));
    c.transport = oidc::make_curl_transport();
    return c;
  }
};

Fleet& fleet() {
  static Fleet f;
  return f;
}

// Every racer answered with the same token, other than \p previous; the reason if not.
std::string check_round(const std::vector<oidc_testing::RacerRound>& answers, const std::string& previous) {
  std::set<std::string> digests;
  for (const auto& a : answers) {
    if (a.answer.empty()) return "a racer did not answer within the bound";
    if (a.answer.rfind("error", 0) == 0) return "a racer failed: " + a.answer;
    if (!a.warnings.empty()) return "a racer warned: " + a.warnings.front();
    digests.insert(a.answer);
  }
  if (digests.size() != 1) return std::to_string(digests.size()) + " different tokens after one expiry";
  if (*digests.begin() == previous) return "no racer renewed";
  return {};
}

// All racers drop their token and ask at once, as if it had expired in every one of them.
void BM_FleetExpiry(benchmark::State& state) {
  Fleet& f = fleet();
  static bool started = false;
  if (!started) {
    std::string seen;
    if (!f.racers.ready(Steady::now() + std::chrono::seconds(120), &seen)) {
      state.SkipWithError(("racers did not start: " + seen).c_str());
      return;
    }
    started = true;
  }
  // A first expiry, not measured: connections to the provider and to Redis are opened here.
  const auto bound = [] { return Steady::now() + std::chrono::seconds(120); };
  auto answers = f.racers.round(bound());
  std::string previous = answers.front().answer;
  std::string why = check_round(answers, "");
  if (!why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  const std::size_t requests_before = f.provider.request_count(LocalProvider::token_path());
  std::vector<double> all_hold_ms;
  for (auto _ : state) {
    const auto t0 = Steady::now();
    answers = f.racers.round(bound());
    const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
    state.SetIterationTime(seconds);
    all_hold_ms.push_back(seconds * 1e3);
    why = check_round(answers, previous);
    if (!why.empty()) {
      state.SkipWithError(why.c_str());
      return;
    }
    previous = answers.front().answer;
  }
  std::sort(all_hold_ms.begin(), all_hold_ms.end());
  const auto expiries = static_cast<double>(all_hold_ms.size());
  state.counters["processes"] = static_cast<double>(f.racers.size());
  state.counters["requests_per_expiry"] =
      static_cast<double>(f.provider.request_count(LocalProvider::token_path()) - requests_before) / expiries;
  state.counters["all_hold_new_ms_median"] = all_hold_ms[all_hold_ms.size() / 2];
  state.counters["all_hold_new_ms_max"] = all_hold_ms.back();
}
BENCHMARK(BM_FleetExpiry)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);

// The baseline: one client-credentials request to the embedded provider, as one process renewing
// alone makes it.
void BM_TokenRequest(benchmark::State& state) {
  const oidc::Client client(fleet().client_config());
  for (auto _ : state) benchmark::DoNotOptimize(client.client_credentials());
}
BENCHMARK(BM_TokenRequest)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly()->Unit(benchmark::kMicrosecond);

// A cache hit that goes to Redis: one GET of a present record, opened (AES-256-GCM) and parsed.
void BM_RedisStoreLoadHit(benchmark::State& state) {
  Fleet& f = fleet();
  const auto store = f.store();
  const oidc::Client client(f.client_config());
  const oidc::TokenKey key = client.token_key({{"grant_type", "client_credentials"}, {"scope", "bench-load"}});
  store->save(key, client.client_credentials());
  for (auto _ : state) {
    auto t = store->load(key);
    if (!t) {
      state.SkipWithError("the record was not loaded");
      return;
    }
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_RedisStoreLoadHit)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly()->Unit(benchmark::kMicrosecond);

double g_frozen_slowest_us = 0;  // the slowest in-process hit while Redis was frozen, every repetition

// The in-process hit of a source on the Redis store: token() on a fresh token. With frozen=1,
// Redis is stopped (SIGSTOP) meanwhile: a hit that went to Redis would wait command_timeout
// (1 s); the slowest call is reported and must stay below half of that.
void BM_InProcessHit(benchmark::State& state) {
  Fleet& f = fleet();
  const oidc::Client client(f.client_config());
  oidc::TokenSourceOptions options;
  options.store = f.store();
  const auto source = client.token_source(oidc::grants::ClientCredentials{}, options);
  (void)source->token();  // the one renewal, through the store, before Redis may be frozen
  const bool frozen = state.range(0) != 0;
  if (frozen) f.redis.freeze();
  Steady::duration slowest{};
  for (auto _ : state) {
    const auto t0 = Steady::now();
    benchmark::DoNotOptimize(source->token());
    slowest = std::max(slowest, Steady::now() - t0);
  }
  if (frozen) f.redis.thaw();
  const double slowest_us = std::chrono::duration<double, std::micro>(slowest).count();
  state.counters["slowest_us"] = slowest_us;
  if (frozen) g_frozen_slowest_us = std::max(g_frozen_slowest_us, slowest_us);
  if (frozen && slowest_us > 500'000) state.SkipWithError("token() on a fresh token waited (for Redis?)");
}
BENCHMARK(BM_InProcessHit)->Arg(0)->Arg(1)->ArgName("redis_frozen")->UseRealTime()->Repetitions(5)->ReportAggregatesOnly();

// Collects what the summary lines need.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const std::string name = run.benchmark_name();
      if (run.error_occurred) errors.push_back(name + ": " + run.error_message);
      if (run.run_name.function_name == "BM_FleetExpiry")
        for (const auto& [counter, value] : run.counters) fleet_counters[counter] = value.value;
      if (run.aggregate_name == "median")
        median_ns[run.run_name.function_name + run.run_name.args] = run.GetAdjustedRealTime() * multiplier(run.time_unit);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  static double multiplier(benchmark::TimeUnit unit) {
    switch (unit) {
      case benchmark::kSecond: return 1e9;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kMicrosecond: return 1e3;
      default: return 1;
    }
  }
  std::map<std::string, double> fleet_counters;  // read with [], so a missing one is 0
  std::map<std::string, double> median_ns;
  std::vector<std::string> errors;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (!reporter.fleet_counters.empty()) {
    std::cout << "fleet: " << reporter.fleet_counters["processes"] << " processes, "
              << reporter.fleet_counters["requests_per_expiry"] << " token requests per expiry (target 1); all hold the "
              << "new token in " << reporter.fleet_counters["all_hold_new_ms_median"] << " ms median, "
              << reporter.fleet_counters["all_hold_new_ms_max"] << " ms max";
    const double request_ns = reporter.median_ns["BM_TokenRequest"];
    if (request_ns > 0)
      std::cout << " (" << reporter.fleet_counters["all_hold_new_ms_median"] * 1e6 / request_ns
                << "x one token request, " << request_ns / 1e3 << " us median)";
    std::cout << "\n";
  }
  const double load_ns = reporter.median_ns["BM_RedisStoreLoadHit"];
  const double hit_ns = reporter.median_ns["BM_InProcessHitredis_frozen:0"];
  const double frozen_ns = reporter.median_ns["BM_InProcessHitredis_frozen:1"];
  if (load_ns > 0 && hit_ns > 0) {
    std::cout << "cache hit through Redis (RedisTokenStore::load): " << load_ns / 1e3 << " us median; in-process hit "
              << "(token()): " << hit_ns << " ns median; ratio " << load_ns / hit_ns << "x\n";
  }
  if (frozen_ns > 0) {
    std::cout << "in-process hit with Redis frozen: " << frozen_ns << " ns median, slowest call "
              << g_frozen_slowest_us << " us (a call to Redis would wait 1000 ms): stays in-process\n";
  }
  for (const auto& e : reporter.errors) std::cout << "FAILED " << e << "\n";
  benchmark::Shutdown();
  return reporter.errors.empty() ? 0 : 1;
}
