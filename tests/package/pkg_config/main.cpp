// Consumer of an installed oidc built from `pkg-config --cflags --libs oidc` alone: a Client with
// a canned transport, the libcurl transport against a closed port and, when the library has it, the
// loopback listener, so each private module in Requires.private is actually linked. Exits non-zero
// on any mismatch, so running it is a test.
#include <oidc/oidc.hpp>
#include <oidc/loopback.hpp>

#include "../consumer_check.hpp"

#include <chrono>
#include <iostream>
#include <string>

int main() {
  using consumer::check;
  check(std::string(OIDC_VERSION) == OIDC_EXPECTED_VERSION,
        std::string("oidc/version.hpp says ") + OIDC_VERSION + ", oidc.pc says " + OIDC_EXPECTED_VERSION);

  consumer::Seen seen;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport =
      consumer::canned_token_transport(R"({"access_token":"tok-pc","token_type":"bearer","expires_in":3600})", seen);
  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    check(seen.body == "grant_type=client_credentials", "request body was " + seen.body);
    check(token.authorization_header() == "Bearer tok-pc", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  // Nothing listens on port 1: a connect error, not a hang.
  try {
    const auto curl = oidc::make_curl_transport();
    oidc::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:1/";
    request.timeout = std::chrono::seconds(5);
    const auto response = curl->send(request);
    check(false, "a request to a closed port returned HTTP " + std::to_string(response.status));
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::connect, std::string("expected errc::connect, got: ") + e.what());
  }

  if (oidc::loopback_available()) {
    try {
      const oidc::LoopbackListener listener;
      const std::string prefix = "http://127.0.0.1:";
      check(listener.redirect_uri().compare(0, prefix.size(), prefix) == 0,
            "loopback redirect_uri was " + listener.redirect_uri());
    } catch (const std::exception& e) {
      check(false, std::string("LoopbackListener threw: ") + e.what());
    }
  }

  if (consumer::failures != 0) return 1;
  std::cout << "pkg-config consumer: OK (oidc " << OIDC_VERSION << ")\n";
  return 0;
}
