// The README's snippets, compiled in CI so they cannot rot. Not meant to be run: the endpoints
// are placeholders.
#include <iostream>
#include <string>

#include <oidc/oidc.hpp>

namespace {

oidc::Token load_saved_token() { return {}; }
void save_token(const oidc::Token&) {}

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
  oidc::Client client(cfg);

  auto source = client.token_source(oidc::grants::client_credentials{"networks"});
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

[[maybe_unused]] void device(const oidc::Client& client) {
  auto auth = client.device_authorization({"openid"});
  std::cout << "Open " << auth.verification_uri_complete << " or enter " << auth.user_code << "\n";

  oidc::DevicePollOptions poll;  // optional: progress callback, cancellation, deadline
  poll.on_pending = [](const oidc::DevicePollProgress&) { std::cout << "waiting...\n"; };
  oidc::Token t = client.poll_device_token(auth, poll);

  oidc::TokenSourceOptions opts;
  opts.initial = load_saved_token();                            // optional
  opts.on_token = [](const oidc::Token& tok) { save_token(tok); };  // rotated refresh tokens too
  auto source = client.token_source(t, opts);
  (void)source;
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
