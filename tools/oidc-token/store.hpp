// The token store behind every command: one factory, so the store type is chosen in one place.
#ifndef OIDC_TOKEN_STORE_HPP_TOOL
#define OIDC_TOKEN_STORE_HPP_TOOL

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <oidc/token_store.hpp>

#include "profile.hpp"

namespace oidc_token {

// The store in `directory` (empty: the file store's default, under $XDG_STATE_HOME). Warnings
// about unreadable records go to stderr unless `quiet` (a lookup whose misses fall through to a
// store that warns: one warning, not two).
std::shared_ptr<oidc::TokenStore> open_store(const std::string& directory, bool quiet = false);

// Every saved key with its token, for `status` (which prints only expiries).
std::vector<std::pair<oidc::TokenKey, oidc::Token>> stored_tokens(oidc::TokenStore& store);

// What a profile's store key holds besides the provider (session.cpp builds the key from these).
std::string profile_resource(const Profile& profile);  // resource and audience, space-separated
std::string profile_subject(const Profile& profile);   // profile name, username or empty

// Whether `key` is one `profile`'s tokens are saved under, decided from the profile alone (no
// discovery, no secret). A profile with only an issuer accepts the token endpoint the record
// names: the tool wrote it after discovering that issuer.
bool profile_owns(const Profile& profile, const oidc::TokenKey& key);

// The saved records `profile` owns (several only when an issuer's token endpoint changed).
std::vector<std::pair<oidc::TokenKey, oidc::Token>> profile_tokens(const Profile& profile,
                                                                   oidc::TokenStore& store);

}  // namespace oidc_token

#endif
