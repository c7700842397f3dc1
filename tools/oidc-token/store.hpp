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

// The resource and audience parameters of every request a profile makes.
oidc::Params profile_extra(const Profile& profile);

// The store key of `profile`'s tokens at a provider with this issuer (empty when configured by
// endpoints) and token endpoint: what its grant's form names, and for the interactive logins the
// profile's own name as the subject.
oidc::TokenKey profile_key(const Profile& profile, std::string issuer, std::string token_endpoint);

// Whether `key` is one `profile`'s tokens are saved under, decided from the profile alone (no
// discovery, no secret). A profile with only an issuer accepts the token endpoint the record
// names: the tool wrote it after discovering that issuer.
bool profile_owns(const Profile& profile, const oidc::TokenKey& key);

// The saved records `profile` owns (several only when an issuer's token endpoint changed).
std::vector<std::pair<oidc::TokenKey, oidc::Token>> profile_tokens(const Profile& profile,
                                                                   oidc::TokenStore& store);

}  // namespace oidc_token

#endif
