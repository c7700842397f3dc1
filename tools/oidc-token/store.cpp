#include "store.hpp"

#if __has_include(<oidc/file_token_store.hpp>)
#include <oidc/file_token_store.hpp>
#define OIDC_TOKEN_HAVE_FILE_STORE 1
#endif

#include "terminal.hpp"

namespace oidc_token {

std::shared_ptr<oidc::TokenStore> open_store(const std::string& directory) {
#ifdef OIDC_TOKEN_HAVE_FILE_STORE
  oidc::FileTokenStoreOptions options;
  options.directory = directory;
  options.on_warning = [](const oidc::Error& e) { warn(std::string("ignoring a saved token: ") + e.what()); };
  return std::make_shared<oidc::FileTokenStore>(std::move(options));
#else
  // Stand-in until the file store lands: tokens live only as long as the process.
  (void)directory;
  return std::make_shared<oidc::MemoryTokenStore>();
#endif
}

std::vector<std::pair<oidc::TokenKey, oidc::Token>> stored_tokens(oidc::TokenStore& store) {
#ifdef OIDC_TOKEN_HAVE_FILE_STORE
  if (auto* files = dynamic_cast<oidc::FileTokenStore*>(&store)) return files->list();
#endif
  (void)store;
  return {};
}

}  // namespace oidc_token
