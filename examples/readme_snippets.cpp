// The README's cpp blocks: each is a copy of a region below (scripts/check-doc-snippets.py checks
// it; --fix rewrites the README from here). Compiled in CI so they cannot rot; not run: the
// endpoints are placeholders and the helpers below stand in for the application's own code.
// [intro]
#include <oidc/oidc.hpp>

// [intro]
// [loopback]
#include <oidc/loopback.hpp>

// [loopback]
#include <iostream>
#include <memory>
#include <string>

namespace {

struct FakeRequest {
  void set_header(const std::string&, const std::string&) {}
} request;

struct MyHttpStack {
  oidc::HttpResponse post(const std::string&, const oidc::Headers&, const std::string&) { return {}; }
} my_http_stack;

void open_browser(const std::string&) {}
std::string wait_for_redirect() { return {}; }

[[maybe_unused]] void intro() {
  // [intro]
  // Configured from the issuer URL alone (OpenID Connect Discovery; RFC 8414 as fallback).
  auto client = oidc::Client::discover("https://sso.example.com/realms/core", "my-app", oidc::Secret("..."));

  oidc::Token t = client.password("alice", oidc::Secret("pw"), {"openid profile email"});
  oidc::IdToken id = client.validate_id_token(t);   // signature with the jwks_uri's keys, iss, aud, exp, at_hash ...
  std::string email = id.email().value_or("");
  auto info = client.userinfo(t, id.subject());     // sub must be the ID token's
  bool active = client.introspect(t.access_token).active;
  client.revoke(t.refresh_token, "refresh_token");
  std::string logout = client.end_session_url(id, "https://app.example.com/bye");

  // A cached token that is always valid, renewed once however many threads ask.
  auto source = client.token_source(oidc::grants::ClientCredentials{"networks"});
  request.set_header("Authorization", source->authorization_header());
  // [intro]
  (void)info;
  (void)active;
}

[[maybe_unused]] void client_credentials(const oidc::Client& client) {
  // [client_credentials]
  oidc::Token t = client.client_credentials({"networks"});          // scope
  oidc::Token a = client.client_credentials({"", {{"audience", "https://api.example.com"}}});
  std::string h = t.authorization_header();                          // "Bearer eyJ..."
  // [client_credentials]
  (void)a;
}

[[maybe_unused]] void password() {
  // [password]
  oidc::ClientConfig cfg;
  cfg.token_endpoint = "https://login.vyopta.com/auth/realms/vyopta/protocol/openid-connect/token";
  cfg.client_id = "vyopta";                                 // public client: no secret
  cfg.extra_headers.set("Host", "login.vyopta.com");        // this provider insists on it
  oidc::Token u = oidc::Client(cfg).password("alice", "secret", {"email profile"});
  // [password]
  (void)u;
}

[[maybe_unused]] void device(const oidc::Client& client) {
  // [device]
  auto auth = client.device_authorization({"openid"});
  // Validated at receipt (docs/security.md): no control characters, https or loopback http only,
  // so these three fields are safe to print as they are.
  std::cout << "Open " << auth.verification_uri << " and enter " << auth.user_code << "\n";
  if (!auth.verification_uri_complete.empty()) std::cout << "or open " << auth.verification_uri_complete << "\n";

  oidc::DevicePollOptions poll;            // optional: progress callback, cancellation, deadline
  poll.on_pending = [](const oidc::DevicePollProgress&) { std::cout << "waiting...\n"; };
  oidc::Token t = client.poll_device_token(auth, poll);
  // [device]
  (void)t;
}

[[maybe_unused]] void authorization_code(const oidc::Client& client) {
  // [authorization_code]
  oidc::AuthorizationOptions opts;  // state, nonce (with openid) and PKCE S256 are generated
  opts.scope = "openid profile";
  opts.redirect_uri = "http://127.0.0.1:8400/callback";
  auto req = client.authorization_request(opts);  // pushed (RFC 9126) when a PAR endpoint is configured
  open_browser(req.url());
  const std::string callback_url = wait_for_redirect();             // what the browser brought back
  oidc::Token t = client.exchange_code(std::move(req), callback_url);  // checks state, iss, error; once
  auto source = client.token_source(std::move(t));                     // refreshes from now on
  // [authorization_code]
}

[[maybe_unused]] void loopback() {
  // [loopback]
  oidc::ClientConfig cfg;  // a public client: no secret (RFC 8252 §8.4)
  cfg.client_id = "cli";
  cfg.auth_method = oidc::ClientAuthMethod::none;
  // Discovery: the endpoints, and the issuer and keys that the ID token (scope openid) is checked with.
  auto client = oidc::Client::discover("https://sso.example.com/realms/core", cfg);
  oidc::Token t = oidc::loopback_login(client, {{}, "openid offline_access"});
  // [loopback]
  (void)t;
}

[[maybe_unused]] void store(const oidc::Client& client, const oidc::Token& device_token) {
  // [store]
  auto store = std::make_shared<oidc::FileTokenStore>();             // per-user directory
  oidc::TokenSourceOptions opts;
  opts.store = store;
  auto service = client.token_source(oidc::grants::ClientCredentials{"api"}, opts);

  // A device login's token, saved under a key naming the login, refreshed by later runs:
  opts.store_key = oidc::TokenKey{};
  opts.store_key->grant = oidc::grants::DeviceCode::grant_type;
  opts.store_key->subject = "my-app";
  auto session = client.stored_token_source(opts);                    // errc::interaction_required
                                                                      // when there is none: log in
  oidc::TokenKey key = client.token_key();  // the key stored_token_source completed, to save a login
  key.grant = opts.store_key->grant;
  key.subject = "my-app";
  store->save(key, device_token);
  // [store]
}

[[maybe_unused]] void extension_grant(const oidc::Client& client, const std::string& signed_jwt) {
  // [extension_grant]
  auto jwt_bearer = client.token_source(oidc::Params{
      {"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", signed_jwt}});
  // [extension_grant]
}

[[maybe_unused]] void transport(oidc::ClientConfig& cfg) {
  // [transport]
  cfg.transport = oidc::make_transport([&](const oidc::HttpRequest& r) -> oidc::HttpResponse {
    return my_http_stack.post(r.url, r.headers, r.body);   // throw oidc::Error when it fails
  });
  // [transport]
}

[[maybe_unused]] void authorized(const std::shared_ptr<oidc::TokenSource>& source) {
  // [authorized]
  auto api = oidc::make_authorized_transport(source, oidc::make_curl_transport());
  oidc::HttpRequest get;
  get.method = "GET";
  get.url = "https://api.example.com/v1/networks";
  oidc::HttpResponse r = api->send(get);
  // [authorized]
  (void)r;
}

}  // namespace

int main() { return 0; }
