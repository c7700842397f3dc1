// The README's snippets, compiled in CI so they cannot rot. Not meant to be run: the endpoints
// are placeholders.
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

namespace {

nlohmann::json load_saved_json() { return {{"access_token", "x"}}; }
void save_json(const nlohmann::json&) {}

struct FakeRequest {
  void set_header(const std::string&, const std::string&) {}
} request;

struct MyHttpStack {
  oidc::HttpResponse post(const std::string&, const oidc::Headers&, const std::string&) { return {}; }
} my_http_stack;

[[maybe_unused]] void intro() {
  oidc::ClientConfig cfg;
  cfg.token_endpoint = "https://sso.example.com/realms/core/protocol/openid-connect/token";
  cfg.client_id = "svc";
  cfg.client_secret = "...";
  cfg.auth_method = oidc::ClientAuthMethod::client_secret_basic;  // the default; or _post, none, auto_detect
  oidc::Client client(cfg);

  auto source = client.token_source(oidc::grants::ClientCredentials{"networks"});
  request.set_header("Authorization", source->authorization_header());  // cached, renewed for you
}

[[maybe_unused]] void grants(const oidc::Client& client) {
  oidc::Token t = client.client_credentials({"networks"});  // scope
  oidc::Token a = client.client_credentials({"", {{"audience", "https://api.example.com"}}});
  std::string h = t.authorization_header();  // "Bearer eyJ..."
  (void)a;
  (void)h;
}

[[maybe_unused]] void password() {
  oidc::ClientConfig cfg;
  cfg.token_endpoint = "https://login.vyopta.com/auth/realms/vyopta/protocol/openid-connect/token";
  cfg.client_id = "vyopta";                           // public client: no secret
  cfg.extra_headers.set("Host", "login.vyopta.com");  // this provider insists on it
  oidc::Token u = oidc::Client(cfg).password("alice", "secret", {"email profile"});
  (void)u;
}

void open_browser(const std::string&) {}
std::string wait_for_redirect() { return {}; }

[[maybe_unused]] void authorization_code(const oidc::Client& client) {
  oidc::AuthorizationOptions opts;  // state, nonce (with openid) and PKCE S256 are generated
  opts.scope = "openid profile";
  opts.redirect_uri = "http://127.0.0.1:8400/callback";
  auto req = client.authorization_request(opts);  // pushed (RFC 9126) when a PAR endpoint is configured
  open_browser(req.url());
  const std::string callback_url = wait_for_redirect();             // what the browser brought back
  oidc::Token t = client.exchange_code(std::move(req), callback_url);  // checks state, iss, error; once
  auto source = client.token_source(std::move(t));                     // refreshes from now on
  (void)source;
}

[[maybe_unused]] void device(const oidc::Client& client) {
  auto auth = client.device_authorization({"openid"});
  // Validated at receipt (docs/security.md): no control characters, https or loopback http only,
  // so these three fields are safe to print as they are.
  std::cout << "Open " << auth.verification_uri << " and enter " << auth.user_code << "\n";
  if (!auth.verification_uri_complete.empty()) std::cout << "or open " << auth.verification_uri_complete << "\n";

  oidc::DevicePollOptions poll;  // optional: progress callback, cancellation, deadline
  poll.on_pending = [](const oidc::DevicePollProgress&) { std::cout << "waiting...\n"; };
  oidc::Token t = client.poll_device_token(auth, poll);

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
  store->save(key, t);

  oidc::TokenSourceOptions by_hand;  // without a store
  by_hand.on_token = [](const oidc::Token& tok) { save_json(oidc::token_to_json(tok)); };
  auto restored = client.token_source(oidc::token_from_json(load_saved_json()), by_hand);
  (void)service;
  (void)session;
  (void)restored;
}

[[maybe_unused]] void loopback() {
  oidc::ClientConfig cfg;  // a public client: no secret (RFC 8252 §8.4)
  cfg.authorization_endpoint = "https://sso.example.com/realms/core/protocol/openid-connect/auth";
  cfg.token_endpoint = "https://sso.example.com/realms/core/protocol/openid-connect/token";
  cfg.client_id = "cli";
  cfg.auth_method = oidc::ClientAuthMethod::none;
  oidc::Token t = oidc::loopback_login(oidc::Client(cfg), {{}, "openid offline_access"});
  (void)t;
}

[[maybe_unused]] void extension_grant(const oidc::Client& client, const std::string& signed_jwt) {
  auto jwt_bearer = client.token_source(oidc::Params{
      {"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", signed_jwt}});
  (void)jwt_bearer;
}

[[maybe_unused]] void transport(oidc::ClientConfig& cfg) {
  cfg.transport = oidc::make_transport([&](const oidc::HttpRequest& r) -> oidc::HttpResponse {
    return my_http_stack.post(r.url, r.headers, r.body);  // throw oidc::Error when it fails
  });
}

[[maybe_unused]] void authorized(const std::shared_ptr<oidc::TokenSource>& source) {
  auto api = oidc::make_authorized_transport(source, oidc::make_curl_transport());
  oidc::HttpRequest get;
  get.method = "GET";
  get.url = "https://api.example.com/v1/networks";
  oidc::HttpResponse r = api->send(get);
  (void)r;
}

}  // namespace

int main() { return 0; }
