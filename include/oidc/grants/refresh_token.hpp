#ifndef OIDC_GRANTS_REFRESH_TOKEN_HPP
#define OIDC_GRANTS_REFRESH_TOKEN_HPP

#include <string>

#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"

namespace oidc::grants {

// RFC 6749 §6. `scope` may only narrow the original grant; empty keeps it.
struct RefreshToken {
  Secret token{};
  std::string scope{};
  Params extra{};

  static constexpr const char* grant_type = "refresh_token";
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"refresh_token", token.expose()}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_REFRESH_TOKEN_HPP
