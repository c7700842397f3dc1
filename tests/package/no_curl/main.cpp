// Consumer of oidc built without libcurl and without OpenSSL: the application's own transport (here a lambda with a
// canned token response) is the only way to reach the server, and a Client without one must fail
// with errc::config instead of silently needing libcurl. Exits non-zero on any mismatch.
#include <oidc/oidc.hpp>

#include "../consumer_check.hpp"

#include <iostream>
#include <string>
#include <utility>

int main() {
  using consumer::check;
  consumer::Seen seen;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";

  // No transport configured: the library has none of its own.
  try {
    const oidc::Client client(config);
    check(false, "a Client without a transport was accepted by a library built without libcurl");
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::config, std::string("expected errc::config, got: ") + e.what());
  }

  config.transport =
      consumer::canned_token_transport(R"({"access_token":"tok-789","token_type":"bearer","expires_in":60})", seen);
  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    check(seen.calls == 1, "transport called " + std::to_string(seen.calls) + " times");
    check(seen.authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen.authorization);
    check(token.authorization_header() == "Bearer tok-789", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  // Built without OpenSSL too: no CSPRNG of its own, and it says so rather than guessing.
  check(!oidc::crypto_available(), "crypto_available() is true in a library built with OIDC_WITH_OPENSSL=OFF");
  try {
    (void)oidc::make_pkce();
    check(false, "make_pkce() worked without a CSPRNG");
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::config, std::string("make_pkce: expected errc::config, got: ") + e.what());
  }
  // A verifier the application made itself still gets its challenge... only with SHA-256, which
  // is OpenSSL's too: the plain method is what remains, on explicit request.
  const auto own = oidc::pkce_from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", oidc::PkceMethod::plain);
  check(own.challenge == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "plain challenge is the verifier");

  // Built without the loopback listener (cpp-httplib): the functions exist and say so.
  check(!oidc::loopback_available(), "loopback_available() is true in a library built with OIDC_WITH_LOOPBACK=OFF");
  try {
    oidc::AuthorizationOptions options;
    options.state = "state-from-the-app";
    options.pkce = own;
    (void)oidc::loopback_login(oidc::Client(config), std::move(options));
    check(false, "loopback_login worked without the listener");
  } catch (const oidc::Error& e) {
    check(e.code() == oidc::errc::config, std::string("loopback_login: expected errc::config, got: ") + e.what());
  }

  if (consumer::failures != 0) return 1;
  std::cout << "no_curl consumer: OK\n";
  return 0;
}
