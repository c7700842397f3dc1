// run: local-provider
// docs/guides/token-cache.md: a caller's wait is bounded by max_wait, and giving up does not abort
// the renewal for anyone else. Run against the embedded provider (argv[1] is its base URL): the
// renewal is held at a gate until the first caller has given up; a later caller then gets the
// token of that same renewal, and the provider sees one request.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  const oidc::Client client(snippet::svc_config(base_url));
  bool ok = true;

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
  oidc::errc first_caller{};
  std::thread impatient([&] {
    try {
      (void)source.token();
    } catch (const oidc::Error& e) {
      first_caller = e.code();  // errc::deadline_exceeded: no token yet, and none within max_wait
    }
  });
  impatient.join();
  const bool still_renewing = source.renewing();  // true: giving up did not stop the renewal
  gate.cancel();  // let the renewal finish
  const auto token = source.token();  // waits for that same renewal, and gets its token
  // [give-up]
  ok = snippet::expect(first_caller == oidc::errc::deadline_exceeded, "the first caller gives up with deadline_exceeded") && ok;
  ok = snippet::expect(still_renewing, "the renewal goes on after the caller gave up") && ok;
  ok = snippet::expect(!token->access_token.empty(), "the later caller gets the renewal's token") && ok;
  ok = snippet::expect(*requests == 1 && source.renewals() == 1, "one renewal, one request") && ok;
  return ok ? 0 : 1;
}
