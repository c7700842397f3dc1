// run: local-provider
// docs/fleet.md: the replicas of one application share their tokens through a RedisTokenStore, so
// that the fleet makes one token request per expiry. Run against the embedded provider (argv[1] is
// its base URL), with Redis at $OIDC_REDIS_HOST:$OIDC_REDIS_PORT (default 127.0.0.1:6379) if one
// listens there: two stores, standing for two replicas, share one token. With no Redis the stores
// degrade (reported once through on_error) and each replica renews by itself: still a token, never
// a failure because of Redis. Either way the program checks what it shows.
#include <oidc/oidc.hpp>

#include "check.hpp"
// [include]
#include <oidc/redis_token_store.hpp>
// [include]

#include <stdlib.h>  // setenv

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

namespace {

// An environment variable, or the fallback when it is unset or empty.
std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "https://sso.example.com");
  if (!oidc::RedisTokenStore::available()) {
    std::cout << "this build has no Redis token store (OIDC_WITH_REDIS=OFF)\n";
    return 0;
  }
  // In production the key comes from the secret manager, the same on every replica; this run has
  // its own unless one is given.
  setenv("OIDC_REDIS_KEY", oidc::RedisTokenStore::generate_key().c_str(), /*overwrite=*/0);
  bool ok = true;

  const oidc::Client client(snippet::svc_config(base_url));
  const oidc::TokenKey key = client.token_key(oidc::grants::ClientCredentials{}.form());
  auto reports = std::make_shared<std::atomic<int>>(0);

  // One replica: its store and its token source. Every replica runs the same code.
  const auto replica = [&](std::shared_ptr<oidc::RedisTokenStore>& store) {
    // [replica]
    oidc::RedisTokenStoreOptions redis;
    redis.host = env_or("OIDC_REDIS_HOST", "127.0.0.1");  // loopback: Redis itself, or a TLS tunnel to it
    redis.port = std::stoi(env_or("OIDC_REDIS_PORT", "6379"));
    redis.username = env_or("OIDC_REDIS_USERNAME", "");  // an ACL user limited to the prefix below
    redis.password = oidc::Secret(env_or("OIDC_REDIS_PASSWORD", ""));
    redis.prefix = "oidc:app:";  // one per application
    // The same 32-byte key on every replica (base64, from RedisTokenStore::generate_key()).
    redis.encryption_key = oidc::RedisTokenStore::decode_key(env_or("OIDC_REDIS_KEY", ""));
    redis.on_error = [reports](const oidc::Error& e) {  // once per outage; never holds a secret
      ++*reports;
      std::cerr << "token store: " << e.what() << "\n";
    };
    redis.on_reattach = [] { std::cerr << "token store: Redis answers again\n"; };
    store = std::make_shared<oidc::RedisTokenStore>(redis);  // an unreachable Redis is no error here

    oidc::TokenSourceOptions options;
    options.store = store;
    // The default, longer than lease_ttl: a replica waiting on a dead holder's lease outlives it.
    options.store_lock_timeout = std::chrono::seconds(30);
    options.on_error = [](const oidc::Error& e) { std::cerr << "token renewal: " << e.what() << "\n"; };
    return client.token_source(oidc::grants::ClientCredentials{}, options);
    // [replica]
  };

  std::shared_ptr<oidc::RedisTokenStore> first_store;
  std::shared_ptr<oidc::RedisTokenStore> second_store;
  // [fleet]
  auto first = replica(first_store);
  const std::string header = first->authorization_header();  // renewed under the lease, saved, served
  auto second = replica(second_store);  // another replica, started later: finds the saved token
  const std::shared_ptr<const oidc::Token> token = second->token();
  const bool shared = first_store->attached() && second_store->attached();
  std::cout << (shared ? "shared through Redis: " : "no Redis (unreachable or refusing), each replica alone: ")
            << first->renewals() + second->renewals() << " token request(s) for 2 replicas\n";
  // [fleet]

  ok = snippet::expect(first->renewals() == 1, "the first replica requests the token") && ok;
  ok = snippet::expect(!header.empty() && !token->access_token.empty(), "both replicas have a token") && ok;
  if (shared) {
    ok = snippet::expect(second->renewals() == 0, "the second replica makes no request") && ok;
    ok = snippet::expect(token->access_token.equals(first->token()->access_token.expose()),
                         "the second replica serves the first one's token") && ok;
    ok = snippet::expect(*reports == 0, "nothing to report while Redis answers") && ok;
    first_store->remove(key);  // leave the server as it was found (the token would expire anyway)
  } else {
    ok = snippet::expect(second->renewals() == 1, "a degraded replica renews by itself") && ok;
    ok = snippet::expect(*reports >= 1, "the outage is reported through on_error") && ok;
  }
  return ok ? 0 : 1;
}
