#ifndef OIDC_GRANTS_CLIENT_CREDENTIALS_HPP
#define OIDC_GRANTS_CLIENT_CREDENTIALS_HPP

#include <string>

#include "oidc/request_options.hpp"

namespace oidc::grants {

/// Client credentials token request, RFC 6749 §4.4: the client acts on its own behalf (machine to
/// machine). The client authenticates as ClientConfig says (client_auth.hpp), not through this struct.
struct ClientCredentials {
  std::string scope{};  ///< Space-delimited (RFC 6749 §3.3); empty: not sent, the server's default.
  Params extra{};  ///< Extension parameters, appended last in the given order.

  static constexpr const char* grant_type = "client_credentials";  ///< RFC 6749 §4.4.2 `grant_type`.
  /// The token request's form body: `grant_type`, then `scope` when set, then `extra`.
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}};
    detail::append_scope_and_extra(p, scope, extra);
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_CLIENT_CREDENTIALS_HPP
