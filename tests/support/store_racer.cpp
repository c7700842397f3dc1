// One of several processes sharing a rotating refresh token through a FileTokenStore
// (tests/integration/file_token_store_test.cpp, "ProcessesRacingOnOneRefreshToken").
//
//   oidc_store_racer TOKEN_ENDPOINT CLIENT_ID STORE_DIR
//
// Builds a refresh-only source from the store (the login was saved by the test), prints "ready",
// then for each byte read on stdin drops its token and asks for one, printing the SHA-256 of the
// access token it got (never the token) or "error <message>". Ends at end of input. Warnings from
// the store are printed as "warning <message>" lines before the round's answer.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <unistd.h>

#include "oidc/client.hpp"
#include "oidc/crypto.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/file_token_store.hpp"
#include "racers.hpp"

using oidc_testing::racer_say;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fputs("usage: oidc_store_racer TOKEN_ENDPOINT CLIENT_ID STORE_DIR\n", stderr);
    return 2;
  }
  try {
    oidc::ClientConfig config;
    config.token_endpoint = argv[1];
    config.client_id = argv[2];
    config.transport = oidc::make_curl_transport();
    const oidc::Client client(config);

    oidc::FileTokenStoreOptions store_options;
    store_options.directory = argv[3];
    store_options.on_warning = [](const oidc::Error& e) { racer_say(std::string("warning ") + e.what()); };
    oidc::TokenSourceOptions options;
    options.store = std::make_shared<oidc::FileTokenStore>(store_options);
    oidc::TokenKey key = client.token_key();
    key.grant = "urn:ietf:params:oauth:grant-type:device_code";
    key.subject = "racer";
    options.store_key = key;
    const auto source = client.stored_token_source(options);
    oidc_testing::racer_serve_rounds(*source);
    return 0;
  } catch (const std::exception& e) {
    racer_say(std::string("error ") + e.what());
    return 1;
  }
}
