#ifndef OIDC_ENDPOINTS_HPP
#define OIDC_ENDPOINTS_HPP

#include <string>
#include <vector>

namespace oidc {

// What the client knows of the authorization server: where it listens, and what it declares.
// Member names are the RFC 8414 / OpenID Connect Discovery metadata names, so discovery fills them
// one to one. Only what a flow uses is needed.
struct Endpoints {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string device_authorization_endpoint;  // RFC 8628
  std::string userinfo_endpoint;
  std::string revocation_endpoint;     // RFC 7009
  std::string introspection_endpoint;  // RFC 7662
  std::string jwks_uri;
  std::string pushed_authorization_request_endpoint;  // RFC 9126: when set, authorization requests are pushed
  bool require_pushed_authorization_requests = false;  // RFC 9126 §5: no request without PAR
  bool authorization_response_iss_parameter_supported = false;  // RFC 9207: responses must carry iss
  std::string end_session_endpoint;  // OpenID Connect RP-Initiated Logout 1.0

  // What the server declares it supports (RFC 8414 §2 / OIDC Discovery §3); empty: not declared.
  std::vector<std::string> grant_types_supported;
  std::vector<std::string> response_types_supported;
  std::vector<std::string> scopes_supported;
  std::vector<std::string> token_endpoint_auth_methods_supported;
  std::vector<std::string> token_endpoint_auth_signing_alg_values_supported;
  std::vector<std::string> code_challenge_methods_supported;
  std::vector<std::string> id_token_signing_alg_values_supported;
  std::vector<std::string> userinfo_signing_alg_values_supported;
};

}  // namespace oidc

#endif  // OIDC_ENDPOINTS_HPP
