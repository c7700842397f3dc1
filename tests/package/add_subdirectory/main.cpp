// Consumer of oidc vendored with add_subdirectory(): a Client with the application's own
// transport answering a canned token response. Exits non-zero on any mismatch.
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
  std::string seen_authorization;
  std::string seen_url;
  oidc::ClientConfig config;
  config.token_endpoint = "https://auth.example.com/oauth2/token";
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.transport = oidc::make_transport([&](const oidc::HttpRequest& request) {
    seen_authorization = request.headers.get("Authorization").value_or("<none>");
    seen_url = request.url;
    oidc::HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "application/json");
    response.body = R"({"access_token":"tok-456","token_type":"Bearer","expires_in":300,"scope":"read"})";
    return response;
  });

  try {
    const oidc::Client client(config);
    oidc::grants::client_credentials grant;
    grant.scope = "read";
    const oidc::Token token = client.client_credentials(grant);
    check(seen_url == config.token_endpoint, "request went to " + seen_url);
    check(seen_authorization == "Basic YXBwOnMzY3JldA==", "request Authorization header was " + seen_authorization);
    check(token.authorization_header() == "Bearer tok-456", "token Authorization header was " + token.authorization_header());
    check(token.scope == "read", "token scope was " + token.scope);
  } catch (const std::exception& e) {
    check(false, std::string("client_credentials threw: ") + e.what());
  }

  if (failures != 0) return 1;
  std::cout << "add_subdirectory consumer: OK (C++ " << __cplusplus << ")\n";
  return 0;
}
