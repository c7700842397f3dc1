#ifndef OIDC_GRANTS_AUTHORIZATION_CODE_HPP
#define OIDC_GRANTS_AUTHORIZATION_CODE_HPP

#include <string>
#include <vector>

#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"

namespace oidc::grants {

/// Authorization code token request, RFC 6749 §4.1.3, with the PKCE code_verifier (RFC 7636 §4.5)
/// and resource indicators (RFC 8707 §2.2). Client::exchange_code builds it from the
/// AuthorizationRequest, so the redirect_uri and verifier are the ones the request used.
struct AuthorizationCode {
  Secret code{};                        ///< The code from the authorization response (RFC 6749 §4.1.2).
  std::string redirect_uri{};           ///< Sent when not empty; must equal the request's (§4.1.3).
  Secret code_verifier{};               ///< PKCE verifier (RFC 7636 §4.5); empty: the request used no PKCE.
  std::vector<std::string> resource{};  ///< RFC 8707 resource indicators, one `resource` parameter each.
  Params extra{};  ///< Extension parameters, appended last in the given order.

  static constexpr const char* grant_type = "authorization_code";  ///< RFC 6749 §4.1.3 `grant_type`.
  /// The token request's form body, secrets included: send it, never log it.
  [[nodiscard]] Params form() const {
    Params p{{"grant_type", grant_type}, {"code", code.expose()}};
    if (!redirect_uri.empty()) p.emplace_back("redirect_uri", redirect_uri);
    if (!code_verifier.empty()) p.emplace_back("code_verifier", code_verifier.expose());
    for (const auto& r : resource) p.emplace_back("resource", r);
    p.insert(p.end(), extra.begin(), extra.end());
    return p;
  }
};

}  // namespace oidc::grants

#endif  // OIDC_GRANTS_AUTHORIZATION_CODE_HPP
