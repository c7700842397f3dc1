#include "store.hpp"

#include <oidc/file_token_store.hpp>

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

std::string profile_resource(const Profile& p) {
  // The order of Client::token_key over the grant's extra parameters (resource, then audience).
  if (p.resource.empty() || p.audience.empty()) return p.resource + p.audience;
  return p.resource + " " + p.audience;
}

std::string profile_subject(const Profile& p) {
  if (p.interactive()) return p.name;
  return p.grant == "password" ? p.username : std::string();
}

bool profile_owns(const Profile& p, const oidc::TokenKey& key) {
  using oidc::TokenKey;
  // A discovered client's key carries the issuer; an endpoint-configured one has none.
  if (key.issuer != p.issuer) return false;
  if (!p.token_endpoint.empty() && key.token_endpoint != p.token_endpoint) return false;
  return key.client_id == p.client_id && key.grant == p.grant_type() && key.subject == profile_subject(p) &&
         TokenKey::canonical_scope(key.scope) == TokenKey::canonical_scope(p.scope) &&
         TokenKey::canonical_scope(key.resource) == TokenKey::canonical_scope(profile_resource(p));
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
