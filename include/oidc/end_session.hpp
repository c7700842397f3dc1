#ifndef OIDC_END_SESSION_HPP
#define OIDC_END_SESSION_HPP

/// \file
/// OpenID Connect RP-Initiated Logout 1.0 §2: the URL that sends the user's browser to the OP to
/// end the session there, and back to the application afterwards.

#include <string>
#include <string_view>
#include <utility>

#include "oidc/authorization_request.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc {

/// The parameters of a logout request (RP-Initiated Logout 1.0 §2), for Client::end_session_url.
/// Empty members are not sent. Client::end_session_url throws oidc::Error with errc::config for a
/// missing or insecure end_session_endpoint or one with a fragment, an id_token_hint that is not a
/// compact JWS, a redirect URI breaking the rule below, state or ui_locales outside printable
/// ASCII, and a parameter in `extra` that a member sets or that is given twice.
struct EndSessionRequest {
  std::string id_token_hint;             ///< The ID token the OP issued (Token::id_token); recommended.
  std::string post_logout_redirect_uri;  ///< Registered with the OP; absolute https (http to loopback), no fragment.
  std::string state;                     ///< Returned to post_logout_redirect_uri.
  std::string ui_locales;                ///< RFC 5646 tags, space-separated.
  /// §2 recommends client_id when id_token_hint is absent, so the OP can check the redirect URI; it
  /// is harmless otherwise.
  bool include_client_id = true;
  Params extra;  ///< Other parameters (logout_hint, ...); not the ones above.
};

namespace detail {

inline bool is_reserved_end_session_parameter(std::string_view name) noexcept {
  for (const char* n : {"id_token_hint", "post_logout_redirect_uri", "state", "ui_locales", "client_id"})
    if (name == n) return true;
  return false;
}

// `endpoint` (an existing query kept, parameters appended with '&') with the request's
// parameters. Throws errc::config for a missing or insecure endpoint, one with a fragment, a
// redirect URI that is not absolute https (or http to loopback) or has a fragment, an id_token_hint
// that is not a compact JWS, state or ui_locales outside printable ASCII, and a reserved or
// repeated parameter in `extra`.
inline std::string end_session_url(std::string_view endpoint, const std::string& client_id,
                                   const EndSessionRequest& request, bool allow_insecure_http) {
  const std::string operation = "end session request";
  if (endpoint.empty()) throw Error(errc::config, operation, "no end_session_endpoint configured");
  require_secure_url(endpoint, allow_insecure_http, operation);
  if (endpoint.find('#') != std::string_view::npos)
    throw Error(errc::config, operation, "the end_session_endpoint has a fragment");
  Params params;
  if (!request.id_token_hint.empty()) {
    if (!is_compact_jose(request.id_token_hint))
      throw Error(errc::config, operation, "id_token_hint is not a compact JWS");
    params.emplace_back("id_token_hint", request.id_token_hint);
  }
  if (request.include_client_id) params.emplace_back("client_id", client_id);
  if (!request.post_logout_redirect_uri.empty()) {
    const auto& uri = request.post_logout_redirect_uri;
    if (const auto problem = redirect_uri_problem(uri))
      throw Error(errc::config, operation, "post_logout_" + *problem);
    if (const auto problem = check_server_uri(uri, allow_insecure_http))
      throw Error(errc::config, operation, "post_logout_redirect_uri " + *problem);
    params.emplace_back("post_logout_redirect_uri", uri);
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"state", &request.state},
                                   {"ui_locales", &request.ui_locales}}) {
    if (value->empty()) continue;
    if (!is_vschar_string(*value)) throw Error(errc::config, operation, std::string(name) + " is not printable ASCII");
    params.emplace_back(name, *value);
  }
  for (const auto& field : request.extra) {
    if (is_reserved_end_session_parameter(field.first))
      throw Error(errc::config, operation, "parameter '" + field.first + "' is set through EndSessionRequest");
    params.push_back(field);
  }
  return authorization_url(endpoint, params, operation);  // the same query building (and duplicate check)
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_END_SESSION_HPP
