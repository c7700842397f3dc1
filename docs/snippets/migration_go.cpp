// run: local-provider
// docs/guides/migration.md: golang.org/x/oauth2's calls, one by one, as this library spells them.
// Run against the embedded provider (argv[1] is its base URL; OIDC_PROVIDER_CONTROL its control
// server, whose /echo answers with the Authorization header it got, standing in for a resource
// server): client credentials, a reusing token source behind an authorized transport, expiry
// checks and the device flow.
#include <oidc/oidc.hpp>

#include "check.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  const char* control = std::getenv("OIDC_PROVIDER_CONTROL");
  bool ok = true;

  // [client-credentials]
  // cc := clientcredentials.Config{ClientID: "svc", ClientSecret: "svc-secret", TokenURL: url, Scopes: ...}
  oidc::ClientConfig cfg;
  cfg.token_endpoint = base_url + "/realms/core/protocol/openid-connect/token";
  cfg.client_id = "svc";
  cfg.client_secret = oidc::Secret("svc-secret");
  const oidc::Client client(cfg);

  // tok, err := cc.Token(ctx)
  const oidc::Token tok = client.client_credentials();
  // tok.Valid(): Go counts a token expiring within 10 s as invalid; say how close is too close.
  const bool valid = !tok.expired(std::chrono::system_clock::now(), std::chrono::seconds(10));
  // [client-credentials]
  ok = snippet::expect(valid, "a fresh token is valid") && ok;

  // [reuse]
  // src := oauth2.ReuseTokenSource(nil, cc.TokenSource(ctx)); httpClient := oauth2.NewClient(ctx, src)
  auto source = client.token_source(oidc::grants::ClientCredentials{});
  auto http = oidc::make_authorized_transport(source, oidc::default_transport());
  // resp, err := httpClient.Get(resourceURL): Authorization added, a 401 renews the token once
  // [reuse]
  if (control != nullptr) {
    oidc::HttpRequest get{"GET", std::string(control) + "/echo", {}, {}};
    const oidc::HttpResponse echoed = http->send(get);
    ok = snippet::expect(echoed.ok() && echoed.body == source->authorization_header(), "the resource server got the header") && ok;
  } else {
    std::cout << "OIDC_PROVIDER_CONTROL not set: the authorized request is not shown\n";
  }

  if (control != nullptr) {  // the provider's polling interval to 1 s: the default 5 s only slows the test
    oidc::HttpRequest post{"POST", std::string(control) + "/device?interval=1", {}, {}};
    ok = snippet::expect(oidc::default_transport()->send(post).ok(), "the provider's polling interval") && ok;
  }

  // [device]
  // dcfg := oauth2.Config{ClientID: "device-client", Endpoint: oauth2.Endpoint{DeviceAuthURL: ..., TokenURL: ...}}
  oidc::ClientConfig dcfg;
  dcfg.token_endpoint = base_url + "/realms/core/protocol/openid-connect/token";
  dcfg.device_authorization_endpoint = base_url + "/realms/core/protocol/openid-connect/auth/device";
  dcfg.client_id = "device-client";  // public: no secret
  const oidc::Client device(dcfg);

  // da, err := dcfg.DeviceAuth(ctx, oauth2.SetAuthURLParam("scope", "openid"))
  const oidc::DeviceAuthorization da = device.device_authorization({"openid"});
  std::cout << "Open " << da.verification_uri << " and enter " << da.user_code << "\n";
  // tok, err := dcfg.DeviceAccessToken(ctx, da): waits interval before each poll, +5 s on slow_down
  const oidc::Token login = device.poll_device_token(da);
  // [device]
  ok = snippet::expect(!login.access_token.empty() && login.has_refresh_token(), "the device login") && ok;
  return ok ? 0 : 1;
}
