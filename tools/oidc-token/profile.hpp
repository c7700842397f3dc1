// Profiles: the TOML file that says which provider, client and grant each name stands for.
#ifndef OIDC_TOKEN_PROFILE_HPP
#define OIDC_TOKEN_PROFILE_HPP

#include <string>
#include <vector>

#include <oidc/secret.hpp>

namespace oidc_token {

// Where a secret comes from. Resolved only when a command needs it (secrets.hpp).
struct SecretSource {
  enum class Kind { none, value, file, env, command };
  Kind kind = Kind::none;
  std::string ref;     // file path, variable name or shell command
  oidc::Secret value;  // Kind::value: written in the profile file itself (0600 files only)
};

struct Profile {
  std::string name;
  std::string issuer;
  std::string token_endpoint, device_authorization_endpoint, revocation_endpoint, authorization_endpoint;
  std::string client_id;
  SecretSource client_secret;
  std::string grant;  // client_credentials | password | device | authorization_code
  std::string scope;
  std::string resource, audience;
  std::string auth_method;  // empty: the library's choice
  std::string username;
  SecretSource password;
  std::vector<std::string> headers;  // "Name: value"
  bool allow_insecure_http = false;
  std::string ca_file;
  std::string env;  // variable name for `exec`

  // device and authorization_code: renewal can only refresh, a new token needs the user.
  [[nodiscard]] bool interactive() const { return grant == "device" || grant == "authorization_code"; }
  // The grant_type the tokens of this profile are stored under (TokenKey::grant).
  [[nodiscard]] std::string grant_type() const;
};

struct ProfileFile {
  std::string path;
  std::string default_profile;
  std::vector<Profile> profiles;  // in file order
  // The named profile, or the default one for an empty name; errc::config when there is none.
  [[nodiscard]] const Profile& find(const std::string& name) const;
};

// --config's default: $OIDC_TOKEN_CONFIG, else $XDG_CONFIG_HOME/oidc-token/config.toml, else
// ~/.config/oidc-token/config.toml.
std::string default_config_path();

// Reads and checks the whole file (unknown keys, grants and methods are errc::config, so a typo
// is not silently ignored).
ProfileFile load_profiles(const std::string& path);

}  // namespace oidc_token

#endif  // OIDC_TOKEN_PROFILE_HPP
