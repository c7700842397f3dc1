// run: local-provider
// docs/guides/simpleidserver.md: each grant type of SimpleIdServer's "Supported grant types"
// (seed 002, realm "master", clients website, device and userDevice, secret "password"). The tests
// run it against the embedded provider (argv[1]), which plays the user's browser and approves the
// device login at once; by hand: oidc_snippet_simpleidserver https://localhost:5001
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

#include "check.hpp"

namespace {

// Every seed 002 request carries client_id and client_secret in the body.
oidc::Client discover(const std::string& issuer, const std::string& client_id) {
  // [discover]
  oidc::ClientConfig cfg;
  cfg.client_id = client_id;                        // "website", "device" or "userDevice"
  cfg.client_secret = oidc::Secret("password");     // the document's; yours from a secret store
  cfg.auth_method = oidc::ClientAuthMethod::client_secret_post;
  return oidc::Client::discover(issuer, cfg);       // issuer: https://localhost:5001/master
  // [discover]
}

}  // namespace

int main(int argc, char** argv) {
  // The seed's tokens say iss https://localhost:5001/master; the tests pass the embedded provider.
  const std::string issuer = snippet::provider_url(argc, argv, "https://localhost:5001") + "/master";
  using snippet::expect;
  bool ok = true;
  try {
    // [client_credentials]
    oidc::Client device = discover(issuer, "device");
    oidc::Token service = device.client_credentials({"networks"});  // scope=networks; no refresh token
    // [client_credentials]
    ok &= expect(!service.access_token.empty() && !service.has_refresh_token(), "client credentials");

    // [password]
    oidc::Client user_device = discover(issuer, "userDevice");
    oidc::Token t = user_device.password("administrator", oidc::Secret("password"), {"openid profile"});
    oidc::IdToken id = user_device.validate_id_token(t);  // ES256, SimpleIdServer's jwks_uri
    oidc::Token renewed = user_device.refresh(t);         // an opaque UUID refresh token
    // [password]
    ok &= expect(id.subject() == "administrator", "password: subject");
    ok &= expect(!renewed.access_token.empty(), "password: refresh");

    // [device]
    oidc::DeviceAuthorization auth = device.device_authorization({"openid profile"});  // with client_secret
    std::cout << "Open " << auth.verification_uri_complete << "\n";  // .../Device?userCode=7096
    oidc::Token on_device = device.poll_device_token(auth);        // access, ID and refresh token
    // [device]
    ok &= expect(auth.user_code.size() == 4 && !on_device.id_token.empty(), "device flow");

    // [authorization_code]
    oidc::Client website = discover(issuer, "website");
    oidc::AuthorizationOptions opts;  // adds state, nonce and PKCE S256 to the document's parameters
    opts.scope = "openid profile";
    opts.redirect_uri = "https://your-app.com/callback";
    oidc::AuthorizationRequest req = website.authorization_request(opts);
    // The browser comes back to https://your-app.com/callback?state=...&code=...&token_type=Bearer&session_state=...
    const std::string callback = snippet::browser_redirect(req.url());
    oidc::Token web = website.exchange_code(std::move(req), callback);  // redirect_uri as sent: the RFC's rule
    // [authorization_code]
    ok &= expect(!web.id_token.empty() && web.has_refresh_token(), "authorization code");
  } catch (const oidc::Error& e) {
    std::cerr << e.what() << "\n";
    ok = false;
  }
  return ok ? 0 : 1;
}
