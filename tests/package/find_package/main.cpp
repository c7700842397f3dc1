// Consumer of an installed oidc: a Client with the application's own transport (canned token
// response), then the installed libcurl transport against a closed loopback port. Exits non-zero
// on any mismatch, so running it is a test.
#include <oidc/oidc.hpp>

#include <chrono>
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
  check(std::string(OIDC_VERSION) == OIDC_EXPECTED_VERSION,
        std::string("oidc/version.hpp says ") + OIDC_VERSION + ", the package says " + OIDC_EXPECTED_VERSION);

  std::string seen_authorization;
  std::string seen_body;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport = oidc::make_transport([&](const oidc::HttpRequest& request) {
    seen_authorization = request.headers.get("Authorization").value_or("<none>");
    seen_body = request.body;
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"tok-123","token_type":"bearer","expires_in":3600})";
    return response;
  });

  try {
    const oidc::Client client(config);
    const oidc::Token token = client.client_credentials();
    // client_secret_basic: Base64("app:s3cret").
    check(seen_authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen_authorization);
    check(seen_body == "grant_type=client_credentials", "request body was " + seen_body);
    check(token.authorization_header() == "Bearer tok-123", "token Authorization header was " + token.authorization_header());
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  // The installed static library must bring libcurl along (a $<LINK_ONLY> dependency found by
  // find_dependency). Nothing listens on port 1, so this is a connect error, not a hang.
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

  if (failures != 0) return 1;
  std::cout << "find_package consumer: OK (oidc " << OIDC_VERSION << ")\n";
  return 0;
}
