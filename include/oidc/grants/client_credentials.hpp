#ifndef OIDC_GRANTS_CLIENT_CREDENTIALS_HPP
#define OIDC_GRANTS_CLIENT_CREDENTIALS_HPP

#include <string>

#include "oidc/request_options.hpp"

namespace oidc::grants {

// RFC 6749 §4.4: the client acts on its own behalf (machine to machine).
struct ClientCredentials {
  std::string scope{};
  Params extra{};

  static constexpr const char* grant_type = "client_credentials";
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_CLIENT_CREDENTIALS_HPP
