// run: local-provider
// docs/guides/device-flow.md: Keycloak's device authorization grant with refresh (seed 000). The
// tests run it against the embedded provider (argv[1]), which approves the login on the first
// poll; by hand: oidc_snippet_device_flow https://umetrics.studio/auth, then approve in a browser.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <oidc/oidc.hpp>

#include "check.hpp"

namespace {

// [login]
oidc::Token login(const oidc::Client& client) {
  oidc::DeviceAuthorization auth = client.device_authorization({});  // client_id=device-client
  // Validated before you get it: no control characters in user_code, https (or loopback http)
  // printable-ASCII URIs. Safe to print as they are.
  std::cout << "Open " << auth.verification_uri << " and enter " << auth.user_code << "\n";
  if (!auth.verification_uri_complete.empty()) std::cout << "or open " << auth.verification_uri_complete << "\n";

  oidc::DevicePollOptions poll;
  poll.on_pending = [](const oidc::DevicePollProgress& p) {
    std::cout << "waiting (" << p.remaining.count() << " s left" << (p.slow_down ? ", slowing down" : "") << ")\n";
  };
  try {
    return client.poll_device_token(auth, poll);  // waits auth.interval (5 s) before each poll
  } catch (const oidc::Error& e) {
    if (e.oauth_code() == "access_denied") std::cerr << "You declined the login.\n";
    if (e.oauth_code() == "expired_token" || e.code() == oidc::errc::deadline_exceeded)
      std::cerr << "The code expired; run again for a new one.\n";
    throw;
  }
}
// [login]

std::string temp_store_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp ? tmp : "/tmp") + "/oidc_snippet_device_flow.XXXXXX";
  if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
  return dir + "/tokens";  // FileTokenStore makes it 0700
}

}  // namespace

int main(int argc, char** argv) {
  // The seed's https://umetrics.studio/auth; the tests pass the embedded provider's URL.
  const std::string server = snippet::provider_url(argc, argv, "https://umetrics.studio/auth");
  const std::string store_dir = temp_store_dir();
  using snippet::expect;
  bool ok = true;
  try {
    // [config]
    oidc::ClientConfig cfg;
    cfg.device_authorization_endpoint = server + "/realms/core/protocol/openid-connect/auth/device";
    cfg.token_endpoint = server + "/realms/core/protocol/openid-connect/token";
    cfg.client_id = "device-client";                  // public: no secret
    cfg.auth_method = oidc::ClientAuthMethod::none;   // client_id in the body, as the seed's curl
    oidc::Client client(cfg);
    // [config]

    // [token]
    oidc::Token token = login(client);
    if (token.expiry) std::cout << "expires " << oidc::format_utc(*token.expiry) << "\n";  // expires_in 86375
    if (token.refresh_expiry)                                                           // refresh_expires_in 1775
      std::cout << "refresh until " << oidc::format_utc(*token.refresh_expiry) << "\n";
    // [token]
    ok &= expect(token.has_refresh_token() && token.expiry && token.refresh_expiry, "no refresh token or expiry");

    // [refresh]
    oidc::Token renewed = client.refresh(token);  // grant_type=refresh_token; a rotated refresh token is adopted
    // [refresh]
    ok &= expect(renewed.access_token.expose() != token.access_token.expose(), "refresh returned the same token");

    // [source]
    // From now on: the header, refreshed before expiry; errc::interaction_required once the
    // refresh token is refused or expired (log in again).
    auto source = client.token_source(renewed);
    std::string header = source->authorization_header();
    // [source]
    ok &= expect(header.rfind("Bearer ", 0) == 0, "no Bearer header");

    // [store]
    oidc::FileTokenStoreOptions store_options;
    store_options.directory = store_dir;  // empty: $XDG_STATE_HOME/oidc/tokens (0700, one 0600 file per key)
    auto store = std::make_shared<oidc::FileTokenStore>(store_options);
    oidc::TokenKey key = client.token_key();  // issuer, token endpoint, client id
    key.grant = oidc::grants::DeviceCode::grant_type;
    key.subject = "my-app";
    store->save(key, renewed);

    // A later run: the saved session, refreshed (and saved again) as needed, without the user.
    oidc::TokenSourceOptions options;
    options.store = store;
    options.store_key = key;
    auto session = client.stored_token_source(options);
    try {
      std::cout << "Signed in: " << *session->token() << "\n";  // no request while the saved token is valid
    } catch (const oidc::Error& e) {
      if (e.code() != oidc::errc::interaction_required) throw;
      store->save(key, login(client));  // nothing saved, or the refresh was refused: log in again
    }
    // [store]
    ok &= expect(session->authorization_header() == header, "the stored session is not the saved token");
  } catch (const oidc::Error& e) {
    std::cerr << e.what() << "\n";
    ok = false;
  }
  std::filesystem::remove_all(std::filesystem::path(store_dir).parent_path());
  return ok ? 0 : 1;
}
