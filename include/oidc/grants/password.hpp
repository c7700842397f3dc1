#ifndef OIDC_GRANTS_PASSWORD_HPP
#define OIDC_GRANTS_PASSWORD_HPP

#include <string>

#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"

namespace oidc::grants {

// RFC 6749 §4.3, resource owner password credentials. Legacy (OAuth 2.1 drops it) but still what
// some providers document (seed 003), often without refresh: a TokenSource re-authenticates.
struct Password {
  std::string username{};
  Secret password{};
  std::string scope{};
  Params extra{};

  static constexpr const char* grant_type = "password";
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"username", username}, {"password", password.expose()}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_PASSWORD_HPP
