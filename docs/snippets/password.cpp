// run: local-provider
// docs/guides/password.md: Vyopta's resource owner password grant (seed 003): a public Keycloak
// client, a mandatory Host header, token_type "bearer", refresh "NOT IMPLEMENTED". The tests run it
// against the embedded provider (argv[1]), which enforces all three; by hand:
//   OIDC_USERNAME=... OIDC_PASSWORD=... oidc_snippet_password https://login.vyopta.com
#include <cstdlib>
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

#include "check.hpp"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  // The seed's https://login.vyopta.com; the tests pass the embedded provider's URL.
  const std::string server = snippet::provider_url(argc, argv, "https://login.vyopta.com");
  // The embedded provider's user; a real one comes from a prompt, never from source.
  const std::string username = env_or("OIDC_USERNAME", "alice");
  const std::string password = env_or("OIDC_PASSWORD", "secret");
  using snippet::expect;
  bool ok = true;
  try {
    // [config]
    oidc::ClientConfig cfg;
    cfg.token_endpoint = server + "/auth/realms/vyopta/protocol/openid-connect/token";
    cfg.client_id = "vyopta";                           // public client: no secret
    cfg.auth_method = oidc::ClientAuthMethod::none;     // client_id in the body
    cfg.extra_headers.set("Host", "login.vyopta.com");  // "a header with key of Host must also be set"
    oidc::Client client(cfg);
    // [config]

    // [password]
    oidc::Token t = client.password(username, oidc::Secret(password));  // grant_type=password
    std::cout << t.token_type << "\n";                  // "bearer", as the seed says
    std::string header = t.authorization_header();      // "Bearer eyJh...": RFC 6750's spelling
    // [password]
    ok &= expect(t.token_type == "bearer", "token_type is not the seed's lowercase bearer");
    ok &= expect(header.rfind("Bearer ", 0) == 0, "the header does not say Bearer");

    // [refused]
    try {
      (void)client.refresh(t);  // a refresh token came, but the provider does not implement refresh
    } catch (const oidc::Error& e) {
      std::cout << e.oauth_code() << "\n";  // "unauthorized_client" (HTTP 400)
    }
    // [refused]

    // [source]
    // The cached header; on expiry (300 s) it tries the refresh token once, and when the provider
    // refuses it (invalid_grant, unauthorized_client or a bare 400/401/403) it logs in again with
    // the password grant.
    auto source = client.token_source(oidc::grants::Password{username, oidc::Secret(password)});
    std::string api_header = source->authorization_header();
    // [source]
    ok &= expect(api_header.rfind("Bearer ", 0) == 0, "no header from the source");
    source->invalidate();  // what an API's 401 does: the next call renews at once
    ok &= expect(source->authorization_header() != api_header, "the source did not log in again");
  } catch (const oidc::Error& e) {
    std::cerr << e.what() << "\n";
    ok = false;
  }
  return ok ? 0 : 1;
}
