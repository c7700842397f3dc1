// run: local-provider allow-rejections
// docs/guides/migration.md: openid-client's calls, one by one, as this library spells them. Run
// against the embedded provider (argv[1] is its base URL; realm "core", confidential client
// "portal", user alice who consents at once): discovery, an authorization code login with PKCE,
// refresh, userinfo, introspection, revocation and the logout URL. The "browser" is one GET of the
// authorization URL whose redirect is not followed.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <iostream>
#include <string>
#include <utility>

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  bool ok = true;

  // [discovery]
  // const config = await client.discovery(new URL(issuer), 'portal', 'portal-secret')
  const oidc::Client client = oidc::Client::discover(base_url + "/realms/core", "portal", oidc::Secret("portal-secret"));
  // [discovery]

  // [code]
  // const url = client.buildAuthorizationUrl(config, { redirect_uri, scope, code_challenge, state, ... })
  // state, nonce and the PKCE verifier are made and kept by the request object.
  oidc::AuthorizationOptions options;
  options.redirect_uri = "http://127.0.0.1/callback";
  options.scope = "openid profile email";
  oidc::AuthorizationRequest request = client.authorization_request(options);
  const std::string callback = snippet::browser_redirect(request.url());  // the user logs in

  // const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier, expectedState, expectedNonce })
  // state, iss, the code exchange and the ID token (signature, iss, aud, exp, nonce, at_hash) in one call.
  const oidc::Token tokens = client.exchange_code(std::move(request), callback);
  const oidc::IdToken id = client.validate_id_token(tokens);  // tokens.claims()
  // [code]
  ok = snippet::expect(!tokens.access_token.empty() && tokens.has_refresh_token(), "the code exchange") && ok;
  ok = snippet::expect(!id.subject().empty(), "a validated ID token") && ok;

  // [calls]
  // await client.refreshTokenGrant(config, tokens.refresh_token)
  const oidc::Token refreshed = client.refresh(tokens);  // keeps the refresh and ID tokens the server did not resend

  // await client.fetchUserInfo(config, access_token, expectedSubject)
  const oidc::UserInfo info = client.userinfo(refreshed, id.subject());

  // await client.tokenIntrospection(config, access_token)
  const bool active = client.introspect(refreshed.access_token).active;

  // await client.tokenRevocation(config, refresh_token, { token_type_hint: 'refresh_token' })
  client.revoke(refreshed.refresh_token, "refresh_token");

  // client.buildEndSessionUrl(config, { id_token_hint, post_logout_redirect_uri, state })
  const std::string logout = client.end_session_url(id, "https://portal.example.com/bye", "bye-state");
  // [calls]
  ok = snippet::expect(info.subject() == id.subject(), "userinfo for the same user") && ok;
  ok = snippet::expect(active, "introspection says active") && ok;
  ok = snippet::expect(logout.find("id_token_hint=") != std::string::npos, "the logout URL carries the ID token") && ok;
  try {
    (void)client.refresh(refreshed);
    ok = snippet::expect(false, "a revoked refresh token still worked") && ok;
  } catch (const oidc::Error& e) {
    ok = snippet::expect(e.oauth_code() == "invalid_grant", "the revoked refresh token is refused") && ok;
  }
  return ok ? 0 : 1;
}
