#include "session.hpp"

#include <oidc/curl_transport.hpp>

#include "secrets.hpp"
#include "store.hpp"
#include "terminal.hpp"
#include "verbose_transport.hpp"

namespace oidc_token {
namespace {

oidc::Headers parse_headers(const Profile& p) {
  oidc::Headers headers;
  for (const auto& line : p.headers) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      throw oidc::Error(oidc::errc::config, "reading the profile file",
                        "profile \"" + oidc::detail::printable(p.name, 64) + "\": headers are \"Name: value\"");
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    try {
      headers.add(line.substr(0, colon), value);
    } catch (const oidc::Error&) {  // the value is not quoted: it may be a credential
      throw oidc::Error(oidc::errc::config, "reading the profile file",
                        "profile \"" + oidc::detail::printable(p.name, 64) + "\": header " +
                            oidc::detail::printable(line.substr(0, colon), 64) + " is not a valid field");
    }
  }
  return headers;
}

}  // namespace

Session open_session(const Profile& profile, const GlobalOptions& global,
                     const std::shared_ptr<oidc::TokenStore>& store) {
  oidc::ClientConfig config;
  config.client_id = profile.client_id;
  config.client_secret = resolve_secret(profile.client_secret, "client secret");
  if (profile.auth_method == "client_secret_post") config.auth_method = oidc::ClientAuthMethod::client_secret_post;
  else if (profile.auth_method == "none") config.auth_method = oidc::ClientAuthMethod::none;
  else if (profile.auth_method.empty() && config.client_secret.empty())
    config.auth_method = oidc::ClientAuthMethod::none;  // a public client (device, browser logins)
  config.extra_headers = parse_headers(profile);
  config.allow_insecure_http = profile.allow_insecure_http;
  config.token_endpoint = profile.token_endpoint;
  config.device_authorization_endpoint = profile.device_authorization_endpoint;
  config.revocation_endpoint = profile.revocation_endpoint;
  config.authorization_endpoint = profile.authorization_endpoint;

  oidc::CurlOptions curl;
  curl.ca_file = profile.ca_file;
  config.transport = oidc::make_curl_transport(curl);
  std::shared_ptr<std::vector<oidc::Secret>> masked;
  if (global.verbose) {
    masked = std::make_shared<std::vector<oidc::Secret>>(1, config.client_secret);
    config.transport = make_verbose_transport(config.transport, masked);
  }

  oidc::Client client = profile.issuer.empty() ? oidc::Client(std::move(config))
                                               : oidc::Client::discover(profile.issuer, std::move(config));
  oidc::TokenKey key = profile_key(profile, client.config().issuer, client.config().token_endpoint);
  return Session{profile, std::move(client), store, std::move(key), profile_extra(profile), {}, std::move(masked)};
}

void load_password(Session& session) {
  if (session.profile.grant != "password" || !session.password.empty()) return;
  session.password = resolve_secret(session.profile.password, "password");
  if (session.masked) session.masked->push_back(session.password);
}

std::shared_ptr<oidc::CachingTokenSource> open_token_source(Session& session) {
  oidc::TokenSourceOptions options;
  options.store = session.store;
  options.store_key = session.key;
  // No renewal in the background: the process exits right after printing, and a refresh cut off
  // mid-flight could leave a rotated refresh token unsaved.
  options.refresh_ahead = std::chrono::seconds{0};
  options.on_error = [](const oidc::Error& e) {
    if (e.code() == oidc::errc::store) warn(std::string("the new token was not saved: ") + e.what());
  };
  const Profile& p = session.profile;
  if (p.grant == "client_credentials")
    return session.client.token_source(oidc::grants::ClientCredentials{p.scope, session.extra}, std::move(options));
  if (p.grant == "password")
    return session.client.token_source(
        oidc::grants::Password{p.username, session.password, p.scope, session.extra},
        std::move(options));
  return session.client.stored_token_source(std::move(options));
}

}  // namespace oidc_token
