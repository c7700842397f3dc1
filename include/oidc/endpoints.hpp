#ifndef OIDC_ENDPOINTS_HPP
#define OIDC_ENDPOINTS_HPP

#include <string>

namespace oidc {

// Where the authorization server listens. Member names are the RFC 8414 / OpenID Connect
// Discovery metadata names, so discovery fills them one to one. Only what a flow uses is needed.
struct Endpoints {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string device_authorization_endpoint;  // RFC 8628
  std::string userinfo_endpoint;
  std::string revocation_endpoint;     // RFC 7009
  std::string introspection_endpoint;  // RFC 7662
  std::string jwks_uri;
};

}  // namespace oidc

#endif  // OIDC_ENDPOINTS_HPP
