#include "store.hpp"

#include <oidc/file_token_store.hpp>
#include <oidc/grants/client_credentials.hpp>
#include <oidc/grants/password.hpp>

#include "terminal.hpp"

namespace oidc_token {

std::shared_ptr<oidc::TokenStore> open_store(const std::string& directory, bool quiet) {
  oidc::FileTokenStoreOptions options;
  options.directory = directory;
  if (!quiet)
    options.on_warning = [](const oidc::Error& e) { warn(std::string("ignoring a saved token: ") + e.what()); };
  return std::make_shared<oidc::FileTokenStore>(std::move(options));
}

std::vector<std::pair<oidc::TokenKey, oidc::Token>> stored_tokens(oidc::TokenStore& store) {
  if (auto* files = dynamic_cast<oidc::FileTokenStore*>(&store)) return files->list();
  return {};
}

oidc::Params profile_extra(const Profile& p) {
  oidc::Params extra;
  if (!p.resource.empty()) extra.emplace_back("resource", p.resource);
  if (!p.audience.empty()) extra.emplace_back("audience", p.audience);
  return extra;
}

oidc::TokenKey profile_key(const Profile& p, std::string issuer, std::string token_endpoint) {
  const oidc::Params extra = profile_extra(p);
  const auto key_of = [&](const oidc::Params& form) {
    return oidc::TokenKey::of_request(std::move(issuer), std::move(token_endpoint), p.client_id, form);
  };
  if (p.grant == "client_credentials") return key_of(oidc::grants::ClientCredentials{p.scope, extra}.form());
  if (p.grant == "password") return key_of(oidc::grants::Password{p.username, {}, p.scope, extra}.form());
  // Interactive logins belong to the profile: two profiles of one client are two users' sessions.
  oidc::TokenKey key = key_of(extra);
  key.grant = p.grant_type();
  key.scope = p.scope;
  key.subject = p.name;
  return key;
}

bool profile_owns(const Profile& p, const oidc::TokenKey& key) {
  // A discovered client's key carries the issuer; an endpoint-configured one has none.
  return key == profile_key(p, p.issuer, p.token_endpoint.empty() ? key.token_endpoint : p.token_endpoint);
}

std::vector<std::pair<oidc::TokenKey, oidc::Token>> profile_tokens(const Profile& profile,
                                                                   oidc::TokenStore& store) {
  auto saved = stored_tokens(store);
  std::vector<std::pair<oidc::TokenKey, oidc::Token>> mine;
  for (auto& record : saved)
    if (profile_owns(profile, record.first)) mine.push_back(std::move(record));
  return mine;
}

}  // namespace oidc_token
