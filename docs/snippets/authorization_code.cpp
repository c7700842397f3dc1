// run: local-provider
// docs/guides/authorization-code.md: the authorization code grant with PKCE against Keycloak
// (realm "core"): a native app's loopback login, then a web app's two steps. The tests run it
// against the embedded provider (argv[1]) and play the user's browser (snippet::browser_redirect:
// the provider's login page answers at once for alice); a real app opens a real browser.
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

#include "check.hpp"

namespace {

std::string wait_for_redirect_to_your_app(const std::string& url) { return snippet::browser_redirect(url); }

}  // namespace

int main(int argc, char** argv) {
  // A Keycloak realm, https://sso.example.com/realms/core; the tests pass the embedded provider's.
  const std::string server = snippet::provider_url(argc, argv, "https://sso.example.com");
  const bool testing = argc > 1;
  using snippet::expect;
  bool ok = true;
  try {
    // [loopback]
    oidc::ClientConfig cfg;  // a public client: no secret (RFC 8252 §8.4)
    cfg.client_id = "web-app";  // allows http://127.0.0.1/callback on any port
    cfg.auth_method = oidc::ClientAuthMethod::none;
    // The endpoints, and the issuer and keys that the ID token (scope openid) is checked with.
    oidc::Client app = oidc::Client::discover(server + "/realms/core", cfg);
    oidc::LoopbackOptions loopback;  // 127.0.0.1, an ephemeral port, 5 minutes
    // [loopback]
    snippet::LoopbackBrowser browser;
    if (testing) loopback.open_browser = [&](const std::string& url) { browser.open(url); };
    // [loopback]
    oidc::Token t = oidc::loopback_login(app, {{}, "openid offline_access"}, loopback);
    // [loopback]
    ok &= expect(t.has_refresh_token() && !t.id_token.empty(), "no refresh or ID token from the loopback login");

    // [discover]
    // A web app: a confidential client whose redirect URI is its own page.
    oidc::ClientConfig web;
    web.client_id = "portal";
    web.client_secret = oidc::Secret("portal-secret");  // from your secret store
    web.auth_method = oidc::ClientAuthMethod::client_secret_post;
    oidc::Client client = oidc::Client::discover(server + "/realms/core", web);
    // [discover]

    // [request]
    oidc::AuthorizationOptions opts;  // state, nonce (with openid) and PKCE S256 are generated
    opts.scope = "openid profile";
    opts.redirect_uri = "https://portal.example.com/callback";
    oidc::AuthorizationRequest req = client.authorization_request(opts);
    // Keep req (it holds state, nonce and code_verifier) with the user's session; send the
    // browser to req.url().
    // [request]

    // [exchange]
    // The redirect: https://portal.example.com/callback?state=...&session_state=...&iss=...&code=...
    const std::string callback_url = wait_for_redirect_to_your_app(req.url());
    oidc::Token token = client.exchange_code(std::move(req), callback_url);  // and validates the ID token
    oidc::IdToken id = client.validate_id_token(token);  // the claims, checked again: iss, aud, exp, nonce...
    std::cout << "signed in: " << id.subject() << "\n";
    // [exchange]
    ok &= expect(!id.subject().empty(), "no subject");

    // [forged]
    oidc::AuthorizationRequest mine = client.authorization_request(opts);
    try {
      (void)client.exchange_code(std::move(mine), "https://portal.example.com/callback?code=abc&state=forged");
    } catch (const oidc::Error& e) {
      std::cout << (e.code() == oidc::errc::state_mismatch) << "\n";  // 1: the code was sent nowhere
    }
    // [forged]

    // [source]
    auto source = client.token_source(std::move(token));  // refreshes with its refresh token
    std::string header = source->authorization_header();
    // [source]
    ok &= expect(header.rfind("Bearer ", 0) == 0, "no header");
  } catch (const oidc::Error& e) {
    std::cerr << e.what() << "\n";
    ok = false;
  }
  return ok ? 0 : 1;
}
