// Browser login for a native app: the authorization code flow with PKCE and a loopback redirect
// (RFC 8252), against a Keycloak-style provider or any endpoints you name:
//
//   auth_code_login --realm-url https://sso.example.com/realms/core --client-id cli [--scope openid]
//   auth_code_login --authorization-endpoint URL --token-endpoint URL --client-id ID [--client-secret S]
//   auth_code_login --help    # every option
//
// The client must allow the redirect URI http://127.0.0.1/callback with any port (RFC 8252 §7.3;
// Keycloak: "http://127.0.0.1/*"), or the fixed one given with --port. Flags may also come from
// OIDC_REALM_URL, OIDC_ISSUER, OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET and OIDC_SCOPE.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <ostream>
#include <string>

#include <oidc/oidc.hpp>

namespace {

std::string from_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void print_usage(std::ostream& out) {
  out << "usage: auth_code_login (--realm-url URL | --authorization-endpoint URL --token-endpoint URL)\n"
         "                       --client-id ID [--client-secret SECRET] [--scope SCOPE] [--issuer URL]\n"
         "                       [--port PORT] [--ipv6]\n"
         "\n"
         "Signs in through the browser: authorization code flow with PKCE and a loopback redirect (RFC 8252).\n"
         "\n"
         "  --realm-url URL               issuer (e.g. a Keycloak realm URL); endpoints and keys are discovered from it\n"
         "                                (env OIDC_REALM_URL)\n"
         "  --authorization-endpoint URL  authorization endpoint (env OIDC_AUTHORIZATION_ENDPOINT)\n"
         "  --token-endpoint URL          token endpoint (env OIDC_TOKEN_ENDPOINT)\n"
         "  --issuer URL                  issuer, checked against the response's iss (RFC 9207) (env OIDC_ISSUER)\n"
         "  --client-id ID                client identifier (env OIDC_CLIENT_ID)\n"
         "  --client-secret SECRET        client secret, if the client has one (env OIDC_CLIENT_SECRET)\n"
         "  --scope SCOPE                 space-delimited scope to ask for (env OIDC_SCOPE)\n"
         "  --port PORT                   listen on this port instead of an ephemeral one\n"
         "  --ipv6                        listen on [::1] instead of 127.0.0.1\n"
         "  --help                        show this help\n";
}

int usage_error() {
  print_usage(std::cerr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  std::map<std::string, std::string> flags{{"--realm-url", from_env("OIDC_REALM_URL")},
                                           {"--issuer", from_env("OIDC_ISSUER")},
                                           {"--authorization-endpoint", from_env("OIDC_AUTHORIZATION_ENDPOINT")},
                                           {"--token-endpoint", from_env("OIDC_TOKEN_ENDPOINT")},
                                           {"--client-id", from_env("OIDC_CLIENT_ID")},
                                           {"--client-secret", from_env("OIDC_CLIENT_SECRET")},
                                           {"--scope", from_env("OIDC_SCOPE")},
                                           {"--port", "0"}};
  oidc::LoopbackOptions loopback;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_usage(std::cout);
      return 0;
    }
    if (arg == "--ipv6") {
      loopback.host = "::1";
    } else if (flags.count(arg) && i + 1 < argc) {
      flags[arg] = argv[++i];
    } else {
      return usage_error();
    }
  }

  oidc::ClientConfig config;
  const std::string& realm = flags["--realm-url"];
  if (!flags["--issuer"].empty()) config.issuer = flags["--issuer"];
  if (!flags["--authorization-endpoint"].empty()) config.authorization_endpoint = flags["--authorization-endpoint"];
  if (!flags["--token-endpoint"].empty()) config.token_endpoint = flags["--token-endpoint"];
  if ((realm.empty() && (config.authorization_endpoint.empty() || config.token_endpoint.empty())) ||
      flags["--client-id"].empty())
    return usage_error();
  const std::string& port = flags["--port"];
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    return usage_error();
  loopback.port = static_cast<std::uint16_t>(std::stoul(port));
  config.client_id = flags["--client-id"];
  config.client_secret = flags["--client-secret"];
  config.auth_method = config.client_secret.empty() ? oidc::ClientAuthMethod::none
                                                    : oidc::ClientAuthMethod::client_secret_post;
  // With a realm URL, discovery gives the endpoints and the jwks_uri too, without which an openid
  // login could not validate its ID token (endpoints given by hand still win).
  const oidc::Client client = realm.empty() ? oidc::Client(config) : oidc::Client::discover(realm, config);

  loopback.open_browser = [](const std::string& url) {
    // Over SSH or without a desktop, xdg-open may "succeed" without any window appearing.
    if (oidc::open_in_browser(url)) std::cerr << "Opened your browser; if nothing appeared, visit:\n  " << url << "\n";
  };
  std::cerr << "Waiting for the browser login (up to 5 minutes)...\n";
  const oidc::Token token = oidc::loopback_login(client, {{}, flags["--scope"]}, loopback);

  const auto header = token.authorization_header();
  std::cout << "Signed in. Authorization: " << header.substr(0, header.find(' ') + 9) << "...[redacted]\n"
            << "Access token expires " << (token.expiry ? oidc::format_utc(*token.expiry) : "(unknown)")
            << (token.has_refresh_token() ? "; a refresh token is held" : "") << "\n";
  return 0;
} catch (const oidc::Error& e) {
  std::cerr << "login failed: " << e.what() << "\n";
  return 1;
}
