#include "store.hpp"

#include <oidc/file_token_store.hpp>

#include "terminal.hpp"

namespace oidc_token {

std::shared_ptr<oidc::TokenStore> open_store(const std::string& directory) {
  oidc::FileTokenStoreOptions options;
  options.directory = directory;
  options.on_warning = [](const oidc::Error& e) { warn(std::string("ignoring a saved token: ") + e.what()); };
  return std::make_shared<oidc::FileTokenStore>(std::move(options));
}

std::vector<std::pair<oidc::TokenKey, oidc::Token>> stored_tokens(oidc::TokenStore& store) {
  if (auto* files = dynamic_cast<oidc::FileTokenStore*>(&store)) return files->list();
  return {};
}

}  // namespace oidc_token
