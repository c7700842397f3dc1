// run: local-provider
// docs/guides/custom-transport.md: the two small transports most applications write. A decorator
// that measures every request and hands it to the default (libcurl) transport, run against the
// embedded provider (argv[1] is its base URL); and a canned-response transport for unit tests,
// which needs no server at all.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

// [decorator]
// Counts requests and failures and their time, around any other transport. It logs the method and
// status only: bodies carry client secrets and passwords, headers carry tokens.
class MeasuredTransport final : public oidc::Transport {
 public:
  explicit MeasuredTransport(std::shared_ptr<oidc::Transport> next) : next_(std::move(next)) {}

  oidc::HttpResponse send(const oidc::HttpRequest& request) override {
    const auto start = std::chrono::steady_clock::now();
    try {
      oidc::HttpResponse response = next_->send(request);  // the next transport enforces the contract
      record(start, false);
      std::clog << request.method << " -> " << response.status << "\n";
      return response;
    } catch (const oidc::Error& e) {
      record(start, true);
      std::clog << request.method << " failed: " << e.error_code().message() << "\n";
      throw;  // unchanged: callers and the token cache branch on its errc
    }
  }

  std::atomic<long> requests{0}, failures{0}, total_microseconds{0};

 private:
  void record(std::chrono::steady_clock::time_point start, bool failed) {
    const auto took = std::chrono::steady_clock::now() - start;
    ++requests;
    if (failed) ++failures;
    total_microseconds += static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  }

  const std::shared_ptr<oidc::Transport> next_;  // send() may run on many threads: never reassigned
};
// [decorator]

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  bool ok = true;

  // [use-decorator]
  auto measured = std::make_shared<MeasuredTransport>(oidc::default_transport());
  oidc::ClientConfig cfg;
  cfg.token_endpoint = base_url + "/realms/core/protocol/openid-connect/token";
  cfg.client_id = "svc";
  cfg.client_secret = oidc::Secret("svc-secret");
  cfg.transport = measured;
  const oidc::Token t = oidc::Client(cfg).client_credentials();
  std::cout << measured->requests << " request(s), " << measured->total_microseconds << " us\n";
  // [use-decorator]
  ok = snippet::expect(!t.access_token.empty(), "a token through the decorator") && ok;
  ok = snippet::expect(measured->requests == 1 && measured->failures == 0, "one request counted") && ok;

  // [fake]
  // For unit tests: make_transport adapts a callable, and checks each request (method, URL, header
  // fields) as every transport must before it reaches the callable.
  std::string seen_grant;
  auto fake = oidc::make_transport([&seen_grant](const oidc::HttpRequest& request) {
    seen_grant = request.body.substr(0, request.body.find('&'));  // test code may read the form
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"fake-access-token","token_type":"Bearer","expires_in":300})";
    return response;
  });
  oidc::ClientConfig test_cfg;
  test_cfg.token_endpoint = "https://sso.example.com/realms/core/protocol/openid-connect/token";
  test_cfg.client_id = "svc";
  test_cfg.client_secret = oidc::Secret("test-secret");
  test_cfg.transport = fake;
  const oidc::Token faked = oidc::Client(test_cfg).client_credentials();
  // faked.access_token.expose() == "fake-access-token", seen_grant == "grant_type=client_credentials"
  // [fake]
  ok = snippet::expect(faked.access_token.expose() == "fake-access-token", "the canned token") && ok;
  ok = snippet::expect(seen_grant == "grant_type=client_credentials", "the fake saw the form") && ok;

  oidc::HttpRequest broken{"GET", "https://sso.example.com/a b", {}, {}};
  try {
    (void)fake->send(broken);
    ok = snippet::expect(false, "make_transport let a URL with a space through") && ok;
  } catch (const oidc::Error& e) {
    ok = snippet::expect(e.code() == oidc::errc::invalid_request, "make_transport refuses a URL with a space") && ok;
  }
  return ok ? 0 : 1;
}
