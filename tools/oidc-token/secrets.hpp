// Secrets named by a profile: read from a file, an environment variable or a command's output.
#ifndef OIDC_TOKEN_SECRETS_HPP
#define OIDC_TOKEN_SECRETS_HPP

#include <string>

#include <oidc/secret.hpp>

#include "profile.hpp"

namespace oidc_token {

// The secret, or an empty one for Kind::none. errc::config for a file readable by group or
// others (or not a regular file), an unset variable, a command that fails or prints too much;
// `what` ("client secret", "password") names it in messages, which never hold the value.
oidc::Secret resolve_secret(const SecretSource& source, const std::string& what);

}  // namespace oidc_token

#endif  // OIDC_TOKEN_SECRETS_HPP
