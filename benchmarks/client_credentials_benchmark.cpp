// Client-credentials round trips to the embedded LocalProvider over one keep-alive connection:
// oidc::Client with the libcurl transport versus a plain libcurl loop doing the same work by hand
// (one reused easy handle, same headers and form body, nlohmann::json parse of the response).
// Prints the ratio library/plain after the runs; the target is <= 1.10 (docs/performance.md). The
// target is judged on BM_PairedLibraryVsPlain, which alternates the two request by request; the
// separate BM_PlainLibcurl / BM_OidcClient medians are printed too, but drift between runs.
//
//   scripts/bench.sh                       # Release build + 5 interleaved repetitions
//   build/bench/benchmarks/oidc_client_credentials_benchmark --benchmark_filter=Paired
//
// Two more benchmarks split the library's cost: the libcurl transport alone (same JSON parse as the
// plain loop), and the Client against an in-process transport that answers at once (no network:
// the library's own CPU cost per token request).

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "local_provider.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/detail/base64.hpp"

namespace {

using oidc_testing::LocalProvider;

LocalProvider* g_provider = nullptr;

const std::string kClientId(LocalProvider::kServiceClientId);
const std::string kClientSecret(LocalProvider::kServiceClientSecret);
const std::string kFormBody = "grant_type=client_credentials";

std::string basic_authorization() {
  return "Basic " + oidc::detail::base64_encode(kClientId + ":" + kClientSecret);
}

oidc::ClientConfig client_config(std::shared_ptr<oidc::Transport> transport) {
  oidc::ClientConfig config;
  config.token_endpoint = g_provider->token_endpoint();
  config.client_id = kClientId;
  config.client_secret = kClientSecret;
  config.auth_method = oidc::ClientAuthMethod::client_secret_basic;
  config.transport = std::move(transport);
  return config;
}

// --- the baseline: what an application would write with libcurl alone ----------------------------

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// One easy handle set up once and reused, with the same headers and form body the library sends.
class PlainLibcurl {
 public:
  PlainLibcurl() : curl_(curl_easy_init()), url_(g_provider->token_endpoint()) {
    if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    const std::string authorization = "Authorization: " + basic_authorization();
    headers_ = curl_slist_append(headers_, authorization.c_str());
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-www-form-urlencoded");
    headers_ = curl_slist_append(headers_, "Accept: application/json");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, kFormBody.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(kFormBody.size()));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
  }
  ~PlainLibcurl() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  PlainLibcurl(const PlainLibcurl&) = delete;
  PlainLibcurl& operator=(const PlainLibcurl&) = delete;

  // One token request: perform, check the status, parse the JSON, read access_token.
  void request() {
    body_.clear();
    if (curl_easy_perform(curl_) != CURLE_OK) throw std::runtime_error("curl_easy_perform failed");
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) throw std::runtime_error("HTTP " + std::to_string(status));
    const auto json = nlohmann::json::parse(body_);
    const auto token = json.at("access_token").get<std::string>();
    benchmark::DoNotOptimize(token.data());
    if (token.empty()) throw std::runtime_error("no access_token");
  }

 private:
  CURL* curl_;
  std::string url_;
  curl_slist* headers_ = nullptr;
  std::string body_;
};

void BM_PlainLibcurl(benchmark::State& state) {
  try {
    PlainLibcurl plain;
    plain.request();  // warm-up: opens the connection
    for (auto _ : state) plain.request();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.SetItemsProcessed(state.iterations());
}

// The target's measurement. Loopback round trips on a 2-core machine drift by 20 % between runs
// of a few seconds, more than the difference being measured, so the two are paired: every
// iteration makes one plain and one library request (alternating which goes first), each on its
// own keep-alive connection, and the ratio is of the summed times. Both see the same conditions.
void BM_PairedLibraryVsPlain(benchmark::State& state) {
  double plain_s = 0;
  double library_s = 0;
  try {
    PlainLibcurl plain;
    const oidc::Client client(client_config(oidc::make_curl_transport()));
    plain.request();
    benchmark::DoNotOptimize(client.client_credentials());
    auto timed = [](auto&& f) {
      const auto t0 = std::chrono::steady_clock::now();
      f();
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    auto library = [&] { benchmark::DoNotOptimize(client.client_credentials().access_token.expose().data()); };
    bool plain_first = true;
    for (auto _ : state) {
      if (plain_first) {
        plain_s += timed([&] { plain.request(); });
        library_s += timed(library);
      } else {
        library_s += timed(library);
        plain_s += timed([&] { plain.request(); });
      }
      plain_first = !plain_first;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["plain_us"] = plain_s / n * 1e6;
  state.counters["library_us"] = library_s / n * 1e6;
  state.counters["ratio"] = library_s / plain_s;
}

// --- the library -----------------------------------------------------------------------------------

void BM_OidcClient(benchmark::State& state) {
  const oidc::Client client(client_config(oidc::make_curl_transport()));
  try {
    benchmark::DoNotOptimize(client.client_credentials());  // warm-up: opens the connection
    for (auto _ : state) {
      const oidc::Token token = client.client_credentials();
      benchmark::DoNotOptimize(token.access_token.expose().data());
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.SetItemsProcessed(state.iterations());
}

// The libcurl transport alone: the same request the Client builds, sent directly, and the same
// JSON parse as the plain loop.
void BM_OidcCurlTransport(benchmark::State& state) {
  const auto transport = oidc::make_curl_transport();
  oidc::HttpRequest request;
  request.method = "POST";
  request.url = g_provider->token_endpoint();
  request.headers.set("Authorization", basic_authorization());
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.set("Accept", "application/json");
  request.body = kFormBody;
  try {
    benchmark::DoNotOptimize(transport->send(request));
    for (auto _ : state) {
      const oidc::HttpResponse response = transport->send(request);
      if (response.status != 200) throw std::runtime_error("HTTP " + std::to_string(response.status));
      const auto json = nlohmann::json::parse(response.body);
      const auto token = json.at("access_token").get<std::string>();
      benchmark::DoNotOptimize(token.data());
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.SetItemsProcessed(state.iterations());
}

// The Client against a transport that answers at once with a response the provider sent: what the
// library itself costs per request (request building, client auth, secret wiping, parsing).
void BM_OidcClientNoNetwork(benchmark::State& state) {
  oidc::HttpResponse canned;
  {
    const oidc::Client real(client_config(oidc::make_curl_transport()));
    canned = oidc::detail::send(
        *real.config().transport,
        [&] {
          oidc::HttpRequest r;
          r.method = "POST";
          r.url = g_provider->token_endpoint();
          r.headers.set("Authorization", basic_authorization());
          r.headers.set("Content-Type", "application/x-www-form-urlencoded");
          r.body = kFormBody;
          return r;
        }(),
        "canned response");
  }
  const oidc::Client client(client_config(oidc::make_transport([&](const oidc::HttpRequest&) { return canned; })));
  try {
    for (auto _ : state) {
      const oidc::Token token = client.client_credentials();
      benchmark::DoNotOptimize(token.access_token.expose().data());
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_PairedLibraryVsPlain)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_PlainLibcurl)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OidcClient)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OidcCurlTransport)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_OidcClientNoNetwork)->Unit(benchmark::kMicrosecond)->MinTime(0.5);

// Console output as usual, plus the per-iteration real times of every run, so the ratio can be
// printed at the end (with repetitions: the median of the repetitions).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal (a custom display reporter does not see --benchmark_color).
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr
                                        ? OO_ColorTabular
                                        : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred) failed_ = true;
      if (run.error_occurred) continue;
      if (run.run_type == Run::RT_Iteration)
        times_[run.run_name.function_name].push_back(run.GetAdjustedRealTime());
      else if (run.aggregate_name == "median")  // all there is with --benchmark_report_aggregates_only
        medians_[run.run_name.function_name] = run.GetAdjustedRealTime();
      if (run.run_name.function_name == "BM_PairedLibraryVsPlain" &&
          (run.run_type == Run::RT_Iteration || run.aggregate_name == "median")) {
        for (const char* counter : {"ratio", "plain_us", "library_us"})
          if (const auto c = run.counters.find(counter); c != run.counters.end()) paired_[counter] = c->second.value;
      }
    }
  }

  // A benchmark that failed (SkipWithError) makes the program fail; a missed ratio target does not
  // (noise on a shared machine is not a bug), it is printed as MISSED.
  [[nodiscard]] bool failed() const { return failed_; }

  void print_summary(std::ostream& out) const {
    char line[256];
    if (paired_.count("ratio") != 0) {
      const double ratio = paired_.at("ratio");
      std::snprintf(line, sizeof line,
                    "ratio library/plain (paired): %.3f (oidc::Client %.1f us, plain libcurl %.1f us per request; "
                    "target <= 1.10: %s)",
                    ratio, paired_.at("library_us"), paired_.at("plain_us"), ratio <= 1.10 ? "met" : "MISSED");
      out << line << '\n';
    }
    const double plain = median("BM_PlainLibcurl");
    const double library = median("BM_OidcClient");
    const double transport = median("BM_OidcCurlTransport");
    if (plain <= 0 || library <= 0) return;
    std::snprintf(line, sizeof line, "ratio library/plain (separate runs, drifts): %.3f (oidc::Client %.1f us, plain libcurl %.1f us)",
                  library / plain, library, plain);
    out << line << '\n';
    if (transport > 0) {
      std::snprintf(line, sizeof line, "ratio transport/plain: %.3f (oidc libcurl transport alone %.1f us)",
                    transport / plain, transport);
      out << line << '\n';
    }
  }

 private:
  double median(const std::string& name) const {
    if (const auto m = medians_.find(name); m != medians_.end()) return m->second;
    const auto it = times_.find(name);
    if (it == times_.end() || it->second.empty()) return 0;
    auto v = it->second;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  std::map<std::string, std::vector<double>> times_;
  std::map<std::string, double> medians_;
  std::map<std::string, double> paired_;  // with repetitions: the median's counters
  bool failed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  {
    oidc_testing::LocalProviderOptions options;
    options.keep_alive_timeout_seconds = 2;  // the destructor waits for idle connections this long at most
    LocalProvider provider(options);
    provider.set_recording(false);
    g_provider = &provider;
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_summary(std::cout);
    if (reporter.failed()) rc = 1;
    g_provider = nullptr;
  }
  benchmark::Shutdown();
  curl_global_cleanup();
  return rc;
}
