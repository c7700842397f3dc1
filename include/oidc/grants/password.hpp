#ifndef OIDC_GRANTS_PASSWORD_HPP
#define OIDC_GRANTS_PASSWORD_HPP

#include <string>

#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"

namespace oidc::grants {

/// Resource owner password credentials token request, RFC 6749 §4.3. Legacy (OAuth 2.1 drops it)
/// but still what some providers document (seed 003), often without refresh: a TokenSource
/// re-authenticates.
struct Password {
  std::string username{};  ///< The resource owner's username (RFC 6749 §4.3.2).
  Secret password{};       ///< The resource owner's password; redacted when printed.
  std::string scope{};     ///< Space-delimited (RFC 6749 §3.3); empty: not sent.
  Params extra{};  ///< Extension parameters, appended last in the given order.

  static constexpr const char* grant_type = "password";  ///< RFC 6749 §4.3.2 `grant_type`.
  /// The token request's form body, secrets included: send it, never log it.
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"username", username}, {"password", password.expose()}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_PASSWORD_HPP
