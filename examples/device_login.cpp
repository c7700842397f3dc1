// Device login (RFC 8628) against a Keycloak-style provider:
//
//   device_login --realm-url https://sso.example.com/realms/core --client-id device-client [--scope openid]
//   device_login --device-endpoint URL --token-endpoint URL --client-id ID [--client-secret S]
//   device_login --local      # the embedded provider; the demo "user" approves by itself
//   ... --store FILE          # keep the session in FILE (mode 0600): later runs refresh it
//                             # instead of asking the user again, until the refresh token expires
//
// Flags may also come from OIDC_REALM_URL, OIDC_DEVICE_ENDPOINT, OIDC_TOKEN_ENDPOINT,
// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_SCOPE.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <thread>

#include <oidc/oidc.hpp>

#include "local_provider.hpp"

namespace {

std::string from_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int usage() {
  std::cerr << "usage: device_login (--realm-url URL | --device-endpoint URL --token-endpoint URL | --local)\n"
               "                    [--client-id ID] [--client-secret SECRET] [--scope SCOPE] [--store FILE]\n";
  return 2;
}

// Written owner-only before any credential goes in.
void save_token(const std::string& path, const oidc::Token& token) {
  { std::ofstream create(path, std::ios::app); }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(path, std::ios::trunc) << oidc::token_to_json(token).dump();
}

std::optional<oidc::Token> load_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return oidc::token_from_json(nlohmann::json::parse(in));
}

void print_session(const oidc::Token& token) {
  const auto header = token.authorization_header();
  std::cout << "Signed in. Authorization: " << header.substr(0, header.find(' ') + 9) << "...[redacted]\n"
            << "Access token expires " << (token.expiry ? oidc::detail::format_utc(*token.expiry) : "(unknown)")
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
    if (arg == "--local") {
      local = true;
    } else if (flags.count(arg) && i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return usage();
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
  if (config.token_endpoint.empty() || flags["--client-id"].empty()) return usage();
  config.client_id = flags["--client-id"];
  config.client_secret = flags["--client-secret"];
  config.auth_method = oidc::ClientAuthMethod::client_secret_post;  // what the seed providers document
  config.transport = oidc::make_curl_transport();  // released before the embedded provider stops
  const oidc::Client client(config);
  const std::string store = flags["--store"];

  // A saved session: the token source hands out the access token while valid and refreshes it
  // otherwise, saving every new token; only when that is impossible does the user log in again.
  if (!store.empty()) {
    if (auto saved = load_token(store)) {
      oidc::TokenSourceOptions options;
      options.on_token = [&](const oidc::Token& t) { save_token(store, t); };
      auto source = client.token_source(std::move(*saved), options);
      try {
        print_session(*source->token());
        return 0;
      } catch (const oidc::Error& e) {
        if (e.code() != oidc::errc::interaction_required) throw;
        std::cout << "The saved session has ended (" << e.detail() << ").\n";
      }
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
  if (!store.empty()) save_token(store, token);
  print_session(token);
  return 0;
} catch (const oidc::Error& e) {
  std::cerr << "device login failed: " << e.what() << "\n";
  return 1;
}
