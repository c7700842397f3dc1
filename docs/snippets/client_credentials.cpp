// run: local-provider
// docs/guides/client-credentials.md: Keycloak's client credentials grant (seed 001). The tests run
// it against the embedded provider, whose URL is argv[1]; by hand:
//   OIDC_CLIENT_SECRET=... oidc_snippet_client_credentials https://auth.example.com
#include <cstdlib>
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

#include "check.hpp"

namespace {

// The secret comes from the environment, never from source; "svc-secret" is the embedded provider's.
std::string client_secret_from_env() {
  const char* s = std::getenv("OIDC_CLIENT_SECRET");
  return s ? s : "svc-secret";
}

}  // namespace

int main(int argc, char** argv) {
  // The seed's https://<AUTH_SERVER>; the tests pass the embedded provider's http://127.0.0.1:PORT.
  const std::string auth_server = snippet::provider_url(argc, argv, "https://auth.example.com");
  const std::string client_secret = client_secret_from_env();
  try {
    // [config]
    oidc::ClientConfig cfg;
    cfg.token_endpoint = auth_server + "/realms/core/protocol/openid-connect/token";
    cfg.client_id = "svc";
    cfg.client_secret = oidc::Secret(client_secret);
    // Default: client_secret_basic (id and secret in the Authorization header). The seed's curl
    // sends them in the body instead; Keycloak accepts both:
    cfg.auth_method = oidc::ClientAuthMethod::client_secret_post;
    oidc::Client client(cfg);
    // [config]

    // [fetch]
    oidc::Token t = client.client_credentials({});  // grant_type=client_credentials
    std::cout << t << "\n";                          // tokens print as [redacted]
    std::string header = t.authorization_header();   // "Bearer eyJ..."
    // [fetch]

    // [scope]
    oidc::Token scoped = client.client_credentials({"networks"});  // scope=networks
    // [scope]

    // [source]

    // [audience]
    // Keycloak's audience, or RFC 8707's resource: which API the token is for.
    oidc::Token for_api = client.client_credentials({"", {{"audience", "https://api.example.com"}}});
    oidc::Token for_resource = client.client_credentials({"", {{"resource", "https://api.example.com"}}});
    // [audience]

    // [basic]
    oidc::ClientConfig basic = cfg;
    basic.auth_method = oidc::ClientAuthMethod::client_secret_basic;  // the default
    oidc::Token b = oidc::Client(basic).client_credentials({});
    // [basic]
    auto source = client.token_source(oidc::grants::ClientCredentials{"networks"});
    // Every API call: a valid header, renewed (one request however many threads ask) before expiry.
    std::string api_header = source->authorization_header();
    // [source]

    using snippet::expect;
    bool ok = expect(header.rfind("Bearer ", 0) == 0, "no Bearer header");
    ok &= expect(t.expiry.has_value(), "no expiry (the seed's expires_in)");
    ok &= expect(t.refresh_token.empty(), "a refresh token (Keycloak issues none here)");
    ok &= expect(!scoped.access_token.empty(), "no scoped token");
    ok &= expect(api_header.rfind("Bearer ", 0) == 0, "no header from the source");
    ok &= expect(source->authorization_header() == api_header, "the source did not cache");
    ok &= expect(!for_api.access_token.empty() && !for_resource.access_token.empty(), "no audience token");
    ok &= expect(!b.access_token.empty(), "no token with Basic authentication");
    return ok ? 0 : 1;
  } catch (const oidc::Error& e) {
    std::cerr << e.what() << "\n";  // never holds the secret or a token
    return 1;
  }
}
