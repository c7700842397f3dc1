#ifndef OIDC_GRANTS_REFRESH_TOKEN_HPP
#define OIDC_GRANTS_REFRESH_TOKEN_HPP

#include <string>

#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"

namespace oidc::grants {

/// Refresh token request, RFC 6749 §6. Client::refresh sends it and keeps the old refresh_token
/// when the server does not rotate it.
struct RefreshToken {
  Secret token{};       ///< The refresh token, sent as `refresh_token`.
  std::string scope{};  ///< May only narrow the original grant (§6); empty keeps it.
  Params extra{};  ///< Extension parameters, appended last in the given order.

  static constexpr const char* grant_type = "refresh_token";  ///< RFC 6749 §6 `grant_type`.
  /// The token request's form body, secrets included: send it, never log it.
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"refresh_token", token.expose()}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_REFRESH_TOKEN_HPP
