#ifndef OIDC_OIDC_HPP
#define OIDC_OIDC_HPP

// Umbrella header: the whole public API.
#include "oidc/authorization_request.hpp"
#include "oidc/authorization_response.hpp"
#include "oidc/authorized_transport.hpp"
#include "oidc/cancel.hpp"
#include "oidc/client.hpp"
#include "oidc/client_auth.hpp"
#include "oidc/clock.hpp"
#include "oidc/crypto.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/endpoints.hpp"
#include "oidc/error.hpp"
#include "oidc/grants/authorization_code.hpp"
#include "oidc/grants/client_credentials.hpp"
#include "oidc/grants/device_code.hpp"
#include "oidc/grants/password.hpp"
#include "oidc/grants/refresh_token.hpp"
#include "oidc/http.hpp"
#include "oidc/implicit.hpp"
#include "oidc/pkce.hpp"
#include "oidc/request_options.hpp"
#include "oidc/secret.hpp"
#include "oidc/time_format.hpp"
#include "oidc/token.hpp"
#include "oidc/token_json.hpp"
#include "oidc/token_response.hpp"
#include "oidc/token_source.hpp"
#include "oidc/transport.hpp"
#include "oidc/version.hpp"

#endif  // OIDC_OIDC_HPP
