// Links oidc and runs one client_credentials exchange over an in-memory transport.
#include <oidc/oidc.hpp>

#include <iostream>

int main() {
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport = oidc::make_transport([](const oidc::HttpRequest&) {
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"tok","token_type":"bearer","expires_in":60})";
    return response;
  });
  const oidc::Token token = oidc::Client(config).client_credentials();
  if (token.authorization_header() != "Bearer tok") {
    std::cerr << "test_package: unexpected token\n";
    return 1;
  }
  std::cout << "oidc " << OIDC_VERSION << ": test_package OK\n";
  return 0;
}
