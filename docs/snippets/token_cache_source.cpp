// run: local-provider
// docs/guides/token-cache.md: a cached client credentials token with its hooks, shared by many
// threads, and a resource server's 401 handled with invalidate. Run against the embedded provider
// (argv[1] is its base URL; client "svc" of realm "core" gets 300 s tokens): however many threads
// ask, one request is made; an invalidated token is renewed once.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  const oidc::Client client(snippet::svc_config(base_url));
  bool ok = true;

  // [source]
  std::atomic<int> renewed{0};
  oidc::TokenSourceOptions options;  // the defaults: renew 60 s before expiry, callers wait from 30 s
  // Both hooks run on the source's renewal thread.
  options.on_token = [&renewed](const oidc::Token&) { ++renewed; };  // e.g. persist a rotated refresh token
  options.on_error = [](const oidc::Error& e) { std::cerr << "token renewal failed: " << e.what() << "\n"; };
  std::shared_ptr<oidc::CachingTokenSource> source = client.token_source(oidc::grants::ClientCredentials{}, options);
  // [source]

  // [threads]
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i) {
    workers.emplace_back([source] {
      for (int n = 0; n < 1000; ++n) {
        const std::string header = source->authorization_header();  // "Bearer ..."; never log it
        (void)header;
      }
    });
  }
  for (auto& w : workers) w.join();
  std::cout << source->renewals() << " renewal(s) for 8000 calls\n";  // 1
  // [threads]
  ok = snippet::expect(source->renewals() == 1, "one renewal for 8000 calls") && ok;
  ok = snippet::expect(renewed == 1, "on_token ran once") && ok;

  // [refused]
  // A resource server answered 401 to this token: drop it (only if it is still the current one,
  // so N refusals of one token cause one renewal), and the next call renews.
  const std::shared_ptr<const oidc::Token> refused = source->token();
  source->invalidate(*refused);
  source->invalidate(*refused);  // a second 401 for the same token changes nothing
  const std::shared_ptr<const oidc::Token> fresh = source->token();
  // [refused]
  ok = snippet::expect(source->renewals() == 2, "one renewal for two refusals of one token") && ok;
  ok = snippet::expect(!fresh->access_token.equals(refused->access_token.expose()), "a new token after the refusal") && ok;
  ok = snippet::expect(renewed == 2, "on_token ran for the renewal") && ok;
  return ok ? 0 : 1;
}
