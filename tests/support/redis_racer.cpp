// One of many processes sharing a RedisTokenStore (tests/integration/redis_fleet_test.cpp,
// benchmarks/redis_fleet_benchmark.cpp); driven through tests/support/racers.hpp.
//
//   oidc_redis_racer MODE TOKEN_ENDPOINT REDIS_PORT PREFIX KEY_BASE64 [NAME=VALUE ...]
//
// MODE
//   refresh  a refresh-only source over the login the test saved (the store key is this client's,
//            grant device_code, subject `subject`): a rotating refresh token shared by the fleet
//   client   a client-credentials source (client_id, client_secret): each process can renew alone
//   hold     takes the store's lock for refresh's key directly, prints "holding" and keeps it until
//            killed (a replica that dies mid-renewal holding the lease); at end of input it exits
//            without releasing it
// NAME=VALUE: client_id, client_secret, subject (default racer), lease_ttl_ms, poll_ms, retry_ms,
// command_timeout_ms, lock_timeout_ms (RedisTokenStoreOptions / TokenSourceOptions).
//
// refresh and client print "ready" once the source is built, then for each byte read on stdin drop
// their token and ask for one, printing the SHA-256 of the access token (never the token) or
// "error <message>". Store and source errors are printed as "warning <message>" lines and the
// store's re-attachment as "reattached", before the round's answer. Both end at end of input.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <string>

#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/redis_token_store.hpp"
#include "racers.hpp"

namespace {

using oidc_testing::racer_say;

std::chrono::milliseconds ms(const std::map<std::string, std::string>& opts, const std::string& name,
                             std::chrono::milliseconds fallback) {
  const auto it = opts.find(name);
  return it == opts.end() ? fallback : std::chrono::milliseconds(std::stoll(it->second));
}

std::string text(const std::map<std::string, std::string>& opts, const std::string& name, std::string fallback) {
  const auto it = opts.find(name);
  return it == opts.end() ? fallback : it->second;
}

int usage() {
  std::fputs("usage: oidc_redis_racer refresh|client|hold TOKEN_ENDPOINT REDIS_PORT PREFIX KEY_BASE64 [NAME=VALUE ...]\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) return usage();
  const std::string mode = argv[1];
  if (mode != "refresh" && mode != "client" && mode != "hold") return usage();
  std::map<std::string, std::string> opts;
  for (int i = 6; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos) return usage();
    opts[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  try {
    oidc::ClientConfig config;
    config.token_endpoint = argv[2];
    config.client_id = text(opts, "client_id", "device-client");
    if (opts.count("client_secret")) config.client_secret = oidc::Secret(opts.at("client_secret"));
    config.transport = oidc::make_curl_transport();
    const oidc::Client client(config);

    oidc::RedisTokenStoreOptions store_options;
    store_options.port = std::stoi(argv[3]);
    store_options.prefix = argv[4];
    store_options.encryption_key = oidc::RedisTokenStore::decode_key(argv[5]);
    store_options.lease_ttl = ms(opts, "lease_ttl_ms", store_options.lease_ttl);
    store_options.poll_interval = ms(opts, "poll_ms", store_options.poll_interval);
    store_options.retry_interval = ms(opts, "retry_ms", store_options.retry_interval);
    store_options.command_timeout = ms(opts, "command_timeout_ms", store_options.command_timeout);
    store_options.on_error = [](const oidc::Error& e) { racer_say(std::string("warning ") + e.what()); };
    store_options.on_reattach = [] { racer_say("reattached"); };
    const auto store = std::make_shared<oidc::RedisTokenStore>(store_options);

    oidc::TokenKey refresh_key = client.token_key();
    refresh_key.grant = oidc::grants::DeviceCode::grant_type;
    refresh_key.subject = text(opts, "subject", "racer");

    if (mode == "hold") {
      const auto held = store->lock(refresh_key, std::chrono::seconds(30), {});
      racer_say("holding");
      for (char c = 0; ::read(0, &c, 1) == 1;) {
      }
      std::_Exit(0);  // as a crash would: the lease is not released, only its expiry frees it
    }

    oidc::TokenSourceOptions options;
    options.store = store;
    options.store_lock_timeout = ms(opts, "lock_timeout_ms", options.store_lock_timeout);
    options.on_error = [](const oidc::Error& e) { racer_say(std::string("warning ") + e.what()); };
    std::shared_ptr<oidc::CachingTokenSource> source;
    if (mode == "refresh") {
      options.store_key = refresh_key;
      source = client.stored_token_source(options);
    } else {
      source = client.token_source(oidc::grants::ClientCredentials{}, options);
    }
    oidc_testing::racer_serve_rounds(*source);
    return 0;
  } catch (const std::exception& e) {
    racer_say(std::string("error ") + e.what());
    return 1;
  }
}
