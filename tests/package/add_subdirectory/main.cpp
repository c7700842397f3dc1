// Consumer of oidc vendored with add_subdirectory(): a Client with the application's own
// transport answering a canned token response. Exits non-zero on any mismatch.
#include <oidc/oidc.hpp>

#include "../consumer_check.hpp"

#include <iostream>
#include <string>

int main() {
  using consumer::check;
  consumer::Seen seen;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport = consumer::canned_token_transport(
      R"({"access_token":"tok-456","token_type":"Bearer","expires_in":300,"scope":"read"})", seen);

  try {
    const oidc::Client client(config);
    oidc::grants::ClientCredentials grant;
    grant.scope = "read";
    const oidc::Token token = client.client_credentials(grant);
    check(seen.url == config.token_endpoint, "request went to " + seen.url);
    check(seen.authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen.authorization);
    check(token.authorization_header() == "Bearer tok-456", "token Authorization header was " + token.authorization_header());
    check(token.scope == "read", "token scope was " + token.scope);
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  if (consumer::failures != 0) return 1;
  std::cout << "add_subdirectory consumer: OK (C++ " << __cplusplus << ")\n";
  return 0;
}
