// Consumer of oidc built without libcurl: the application's own transport (here a lambda with a
// canned token response) is the only way to reach the server, and a Client without one must fail
// with errc::config instead of silently needing libcurl. Exits non-zero on any mismatch.
#include <oidc/oidc.hpp>

#include <iostream>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "FAIL: " << what << '\n';
    ++failures;
  }
}

}  // namespace

int main() {
  int calls = 0;
  std::string seen_authorization;
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

  config.transport = oidc::make_transport([&](const oidc::HttpRequest& request) {
    ++calls;
    seen_authorization = request.headers.get("Authorization").value_or("<none>");
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"tok-789","token_type":"bearer","expires_in":60})";
    return response;
  });
  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    check(calls == 1, "transport called " + std::to_string(calls) + " times");
    check(seen_authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen_authorization);
    check(token.authorization_header() == "Bearer tok-789", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  if (failures != 0) return 1;
  std::cout << "no_curl consumer: OK\n";
  return 0;
}
