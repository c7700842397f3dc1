#ifndef OIDC_ENDPOINTS_HPP
#define OIDC_ENDPOINTS_HPP

#include <string>
#include <vector>

namespace oidc {

/// What the client knows of the authorization server: where it listens, and what it declares.
///
/// Member names are the RFC 8414 / OpenID Connect Discovery 1.0 metadata names, so discovery fills
/// them one to one. Only what a flow uses is needed; an empty URL means "not configured", and the
/// call that needs it fails with `oidc::Error` (`errc::config`).
struct Endpoints {
  std::string issuer;  ///< Issuer identifier; `iss` of ID tokens and RFC 9207 responses must equal it exactly.
  std::string authorization_endpoint;  ///< RFC 6749 §3.1: where the user's browser is sent.
  std::string token_endpoint;          ///< RFC 6749 §3.2: where every grant is exchanged for tokens.
  std::string device_authorization_endpoint;  ///< RFC 8628 §3.1: starts the device flow.
  std::string userinfo_endpoint;              ///< OIDC Core §5.3.
  std::string revocation_endpoint;     ///< RFC 7009.
  std::string introspection_endpoint;  ///< RFC 7662.
  std::string jwks_uri;                ///< RFC 7517 JWK Set of the server's signing keys.
  std::string pushed_authorization_request_endpoint;  ///< RFC 9126: when set, authorization requests are pushed.
  bool require_pushed_authorization_requests = false;  ///< RFC 9126 §5: no authorization request without PAR.
  bool authorization_response_iss_parameter_supported = false;  ///< RFC 9207: authorization responses must carry iss.
  std::string end_session_endpoint;  ///< OpenID Connect RP-Initiated Logout 1.0.

  /// \name Declared capabilities
  /// What the server declares it supports (RFC 8414 §2 / OIDC Discovery §3); empty: not declared.
  ///@{
  std::vector<std::string> grant_types_supported;  ///< Grant types, such as `authorization_code`, `refresh_token`.
  std::vector<std::string> response_types_supported;  ///< Response types, such as `code`.
  std::vector<std::string> scopes_supported;          ///< Scope values the server names.
  std::vector<std::string> token_endpoint_auth_methods_supported;  ///< Such as `client_secret_basic`, `private_key_jwt`.
  std::vector<std::string> token_endpoint_auth_signing_alg_values_supported;  ///< JWS algorithms for client assertions.
  std::vector<std::string> code_challenge_methods_supported;  ///< RFC 7636 methods, such as `S256`.
  std::vector<std::string> id_token_signing_alg_values_supported;  ///< JWS algorithms for ID tokens.
  std::vector<std::string> userinfo_signing_alg_values_supported;  ///< JWS algorithms for signed UserInfo.
  ///@}
};

}  // namespace oidc

#endif  // OIDC_ENDPOINTS_HPP
