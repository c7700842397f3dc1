// The token store behind every command: one factory, so the store type is chosen in one place.
#ifndef OIDC_TOKEN_STORE_HPP_TOOL
#define OIDC_TOKEN_STORE_HPP_TOOL

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <oidc/token_store.hpp>

namespace oidc_token {

// The store in `directory` (empty: the file store's default, under $XDG_STATE_HOME). Warnings
// about unreadable records go to stderr.
std::shared_ptr<oidc::TokenStore> open_store(const std::string& directory);

// Every saved key with its token, for `status` (which prints only expiries).
std::vector<std::pair<oidc::TokenKey, oidc::Token>> stored_tokens(oidc::TokenStore& store);

}  // namespace oidc_token

#endif
