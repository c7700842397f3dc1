// A profile made usable: its Client (discovered or from endpoints), store and store key.
#ifndef OIDC_TOKEN_SESSION_HPP
#define OIDC_TOKEN_SESSION_HPP

#include <memory>
#include <string>
#include <vector>

#include <oidc/client.hpp>
#include <oidc/token_store.hpp>

#include "profile.hpp"

namespace oidc_token {

struct GlobalOptions {
  std::string config;     // empty: default_config_path()
  std::string store_dir;  // empty: the store's default
  bool verbose = false;
};

struct Session {
  Profile profile;
  oidc::Client client;
  std::shared_ptr<oidc::TokenStore> store;
  oidc::TokenKey key;  // what this profile's tokens are stored under
  oidc::Params extra;  // resource / audience parameters of every grant
  oidc::Secret password;  // password grant: empty until load_password
  // What --verbose masks besides credential members; null without --verbose.
  std::shared_ptr<std::vector<oidc::Secret>> masked;
};

// Resolves the client secret, builds the transport (CA file, --verbose) and the Client (discovery
// when the profile has an issuer).
Session open_session(const Profile& profile, const GlobalOptions& global, const std::shared_ptr<oidc::TokenStore>& store);

// Resolves a password grant's password into session.password (and the --verbose mask list). Done
// only when a new token is needed: a password command may prompt. Call it before
// open_token_source.
void load_password(Session& session);

// The profile's token source over the store: the grant itself for client_credentials and
// password, refresh-only for interactive profiles (errc::interaction_required without a token).
std::shared_ptr<oidc::CachingTokenSource> open_token_source(Session& session);

}  // namespace oidc_token

#endif
