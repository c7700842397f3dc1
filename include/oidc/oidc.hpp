#ifndef OIDC_OIDC_HPP
#define OIDC_OIDC_HPP

/// \file
/// Umbrella header: the whole public API, one RFC concept per included header.

/// \namespace oidc
/// OAuth 2.0 (RFC 6749) and OpenID Connect client: grants, token validation, caching and transports.
/// Everything a server sends is validated before use; a failure is an oidc::Error carrying an
/// oidc::errc. Names in `oidc::detail` are internal and may change in any release.

/// \namespace oidc::grants
/// Token request parameters, one struct per grant (RFC 6749 §4, §6; RFC 8628 §3.4): each one's
/// `form()` is the token endpoint's form body. oidc::Client sends them (Client::client_credentials,
/// Client::password, Client::token_source) and adds client authentication.
#include "oidc/authorization_request.hpp"
#include "oidc/authorization_response.hpp"
#include "oidc/authorized_transport.hpp"
#include "oidc/cancel.hpp"
#include "oidc/client.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/clock.hpp"
#include "oidc/crypto.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/discovery.hpp"
#include "oidc/end_session.hpp"
#include "oidc/endpoints.hpp"
#include "oidc/error.hpp"
#include "oidc/fetch_options.hpp"
#include "oidc/file_token_store.hpp"
#include "oidc/redis_token_store.hpp"
#include "oidc/grants/authorization_code.hpp"
#include "oidc/grants/client_credentials.hpp"
#include "oidc/grants/device_code.hpp"
#include "oidc/grants/password.hpp"
#include "oidc/grants/refresh_token.hpp"
#include "oidc/http.hpp"
#include "oidc/id_token.hpp"
#include "oidc/implicit.hpp"
#include "oidc/introspection.hpp"
#include "oidc/jose.hpp"
#include "oidc/jwk_set.hpp"
#include "oidc/jwt.hpp"
#include "oidc/jwt_access_token.hpp"
#include "oidc/jwks.hpp"
#include "oidc/loopback.hpp"
#include "oidc/pkce.hpp"
#include "oidc/request_options.hpp"
#include "oidc/revocation.hpp"
#include "oidc/secret.hpp"
#include "oidc/time_format.hpp"
#include "oidc/token.hpp"
#include "oidc/token_json.hpp"
#include "oidc/token_response.hpp"
#include "oidc/token_source.hpp"
#include "oidc/token_store.hpp"
#include "oidc/transport.hpp"
#include "oidc/userinfo.hpp"
#include "oidc/version.hpp"

#endif  // OIDC_OIDC_HPP
