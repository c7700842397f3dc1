// Device login (RFC 8628) against a Keycloak-style provider:
//
//   device_login --realm-url https://sso.example.com/realms/core --client-id device-client [--scope openid]
//   device_login --device-endpoint URL --token-endpoint URL --client-id ID [--client-secret S]
//   device_login --local      # the embedded provider; the demo "user" approves by itself
//   ... --store DIR           # keep the session in a token store in DIR (oidc::FileTokenStore):
//                             # later runs refresh it instead of asking the user again, until the
//                             # refresh is refused; "default" is the per-user XDG directory
//   device_login --help       # every option
//
// Flags may also come from OIDC_REALM_URL, OIDC_DEVICE_ENDPOINT, OIDC_TOKEN_ENDPOINT,
// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_SCOPE.
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include <oidc/oidc.hpp>

#include "local_provider.hpp"

namespace {

std::string from_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void print_usage(std::ostream& out) {
  out << "usage: device_login (--realm-url URL | --device-endpoint URL --token-endpoint URL | --local)\n"
         "                    [--client-id ID] [--client-secret SECRET] [--scope SCOPE] [--store DIR]\n"
         "\n"
         "Signs in with the OAuth 2.0 device authorization grant (RFC 8628).\n"
         "\n"
         "  --realm-url URL        Keycloak realm URL; the device and token endpoints are derived from it\n"
         "                         (env OIDC_REALM_URL)\n"
         "  --device-endpoint URL  device authorization endpoint (env OIDC_DEVICE_ENDPOINT)\n"
         "  --token-endpoint URL   token endpoint (env OIDC_TOKEN_ENDPOINT)\n"
         "  --local                use the embedded test provider, which approves the login by itself\n"
         "  --client-id ID         client identifier (env OIDC_CLIENT_ID; --local: device-client)\n"
         "  --client-secret SECRET client secret of a confidential client (env OIDC_CLIENT_SECRET)\n"
         "  --scope SCOPE          space-delimited scope to ask for (env OIDC_SCOPE)\n"
         "  --store DIR            keep the session in a token store in DIR (\"default\": the per-user\n"
         "                         directory); later runs refresh it instead of asking again, and start\n"
         "                         a new login once the server refuses the refresh\n"
         "  --help                 show this help\n";
}

// A usage mistake: the usage on stderr, exit status 2 (as getopt-style tools do).
int usage_error() {
  print_usage(std::cerr);
  return 2;
}

void print_session(const oidc::Token& token) {
  const auto header = token.authorization_header();
  std::cout << "Signed in. Authorization: " << header.substr(0, header.find(' ') + 9) << "...[redacted]\n"
            << "Access token expires " << (token.expiry ? oidc::format_utc(*token.expiry) : "(unknown)")
            << (token.has_refresh_token() ? "; a refresh token is held" : "") << "\n";
}

}  // namespace

int main(int argc, char** argv) try {
  std::map<std::string, std::string> flags{{"--realm-url", from_env("OIDC_REALM_URL")},
                                           {"--device-endpoint", from_env("OIDC_DEVICE_ENDPOINT")},
                                           {"--token-endpoint", from_env("OIDC_TOKEN_ENDPOINT")},
                                           {"--client-id", from_env("OIDC_CLIENT_ID")},
                                           {"--client-secret", from_env("OIDC_CLIENT_SECRET")},
                                           {"--scope", from_env("OIDC_SCOPE")},
                                           {"--store", ""}};
  bool local = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_usage(std::cout);
      return 0;
    }
    if (arg == "--local") {
      local = true;
    } else if (flags.count(arg) && i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return usage_error();
    }
  }

  std::unique_ptr<oidc_testing::LocalProvider> provider;
  if (local) {
    provider = std::make_unique<oidc_testing::LocalProvider>();
    provider->set_device_poll_interval(1);
    flags["--realm-url"] = provider->base_url() + "/realms/core";
    if (flags["--client-id"].empty()) flags["--client-id"] = "device-client";
  }

  oidc::ClientConfig config;
  if (!flags["--realm-url"].empty()) {  // Keycloak's fixed layout under the realm
    config.device_authorization_endpoint = flags["--realm-url"] + "/protocol/openid-connect/auth/device";
    config.token_endpoint = flags["--realm-url"] + "/protocol/openid-connect/token";
  }
  if (!flags["--device-endpoint"].empty()) config.device_authorization_endpoint = flags["--device-endpoint"];
  if (!flags["--token-endpoint"].empty()) config.token_endpoint = flags["--token-endpoint"];
  if (config.token_endpoint.empty() || flags["--client-id"].empty()) return usage_error();
  config.client_id = flags["--client-id"];
  config.client_secret = flags["--client-secret"];
  config.auth_method = oidc::ClientAuthMethod::client_secret_post;  // what the seed providers document
  config.transport = oidc::make_curl_transport();  // released before the embedded provider stops
  const oidc::Client client(config);
  // A saved session: the store's token source hands out the access token while valid and
  // refreshes it otherwise, saving every new token (under the store's lock, so two runs at once
  // never redeem one refresh token twice); only when that is impossible does the user log in again.
  std::shared_ptr<oidc::FileTokenStore> store;
  oidc::TokenKey key = client.token_key();
  key.grant = oidc::grants::DeviceCode::grant_type;
  key.scope = flags["--scope"];
  key.subject = "device_login";
  if (!flags["--store"].empty()) {
    oidc::FileTokenStoreOptions store_options;
    if (flags["--store"] != "default") store_options.directory = flags["--store"];
    store_options.on_warning = [](const oidc::Error& e) { std::cerr << "warning: " << e.what() << "\n"; };
    store = std::make_shared<oidc::FileTokenStore>(std::move(store_options));
    oidc::TokenSourceOptions options;
    options.store = store;
    options.store_key = key;
    auto source = client.stored_token_source(options);
    try {
      print_session(*source->token());
      return 0;
    } catch (const oidc::Error& e) {
      if (e.code() != oidc::errc::interaction_required) throw;
      std::cout << "No saved session to continue (" << e.detail() << ").\n";
    }
  }

  const auto auth = client.device_authorization({flags["--scope"]});
  std::cout << "To sign in, open " << auth.verification_uri << " and enter the code " << auth.user_code << "\n";
  if (!auth.verification_uri_complete.empty()) std::cout << "or open " << auth.verification_uri_complete << "\n";

  std::thread user;
  if (local) {  // play the user's browser
    user = std::thread([transport = config.transport, url = auth.verification_uri_complete] {
      oidc::HttpRequest visit;
      visit.method = "GET";
      visit.url = url;
      (void)transport->send(visit);
    });
  }
  oidc::DevicePollOptions options;
  options.on_pending = [](const oidc::DevicePollProgress& p) {
    std::cout << "waiting for approval... (" << p.remaining.count() << " s left"
              << (p.slow_down ? ", server asked to slow down" : "") << ")\n";
  };
  const auto token = client.poll_device_token(auth, options);
  if (user.joinable()) user.join();
  if (store) store->save(key, token);
  print_session(token);
  return 0;
} catch (const oidc::Error& e) {
  std::cerr << "device login failed: " << e.what() << "\n";
  return 1;
}
