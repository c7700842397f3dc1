// run: local-provider
// docs/guides/token-cache.md: a caller's wait is bounded by max_wait, and giving up does not abort
// the renewal for anyone else. Run against the embedded provider (argv[1] is its base URL): the
// renewal is held at a gate until the first caller has given up; a later caller then gets the
// token of that same renewal, and the provider sees one request.
#include <oidc/oidc.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  // CI passes the embedded provider's URL; a Keycloak at this address would do as well.
  const std::string base_url = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
  oidc::ClientConfig cfg;
  cfg.token_endpoint = base_url + "/realms/core/protocol/openid-connect/token";
  cfg.client_id = "svc";
  cfg.client_secret = oidc::Secret("svc-secret");
  const oidc::Client client(cfg);
  int failed = 0;
  const auto expect = [&failed](bool ok, const char* what) {
    if (!ok) {
      std::cerr << "FAILED: " << what << "\n";
      ++failed;
    }
  };

  // [custom]
  // Any way of getting a token can be cached: a Renew function gets the token it replaces (null at
  // first) and a CancelToken that fires when the source is destroyed, to hand to its requests.
  // It may outlive the source, so it owns (captures by value) what it uses.
  oidc::CancelToken gate;  // here: holds the renewal until the test opens it
  auto requests = std::make_shared<std::atomic<int>>(0);
  oidc::CachingTokenSource::Renew renew = [client, gate, requests](const std::shared_ptr<const oidc::Token>&,
                                                                   const oidc::CancelToken& cancel) {
    gate.wait_for(std::chrono::seconds(30));  // "cancelled" here means: opened
    ++*requests;
    return client.client_credentials({}, cancel);
  };
  oidc::TokenSourceOptions options;
  options.max_wait = std::chrono::seconds(2);  // how long each caller waits for a renewal
  oidc::CachingTokenSource source(renew, client.config().clock, options);
  // [custom]

  // [give-up]
  std::thread impatient([&] {
    try {
      (void)source.token();
    } catch (const oidc::Error& e) {
      // No token yet and none within max_wait: errc::deadline_exceeded, for this caller only.
      expect(e.code() == oidc::errc::deadline_exceeded, "the first caller gives up with deadline_exceeded");
    }
  });
  impatient.join();
  expect(source.renewing(), "the renewal goes on after the caller gave up");
  gate.cancel();  // let the renewal finish
  const auto token = source.token();  // waits for that same renewal, and gets its token
  // [give-up]
  expect(!token->access_token.empty(), "the later caller gets the renewal's token");
  expect(*requests == 1 && source.renewals() == 1, "one renewal, one request");
  return failed == 0 ? 0 : 1;
}
