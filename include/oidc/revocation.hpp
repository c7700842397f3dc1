#ifndef OIDC_REVOCATION_HPP
#define OIDC_REVOCATION_HPP

// OAuth 2.0 Token Revocation (RFC 7009): the client tells the authorization server it no longer
// needs a token. Success is HTTP 200 whatever the body (§2.2: the client ignores it), also for a
// token the server did not know.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/redact.hpp"
#include "oidc/detail/request.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

// Throws for anything but a 2xx: 503 (RFC 7009 §2.2.1: the token was not revoked, try again) is
// errc::http_status saying when to retry (Retry-After, escaped); other answers go through
// parse_oauth_response (unsupported_token_type, invalid_client, ... as errc::oauth_error, else
// errc::http_status).
inline void check_revocation_response(const HttpResponse& r, const std::string& operation,
                                      const std::vector<std::string_view>& secrets) {
  if (r.ok()) return;
  if (r.status == 503) {
    const auto retry_after = r.headers.get("Retry-After");
    throw_malformed(errc::http_status, r, operation,
                    "the token was not revoked (503 Service Unavailable); retry " +
                        (retry_after ? "after " + redacted_text(*retry_after, secrets, 64) + " (Retry-After)"
                                     : std::string("later")),
                    secrets);
  }
  (void)parse_oauth_response(r, operation, secrets);  // throws for every non-2xx status
  throw_malformed(errc::http_status, r, operation, {}, secrets);  // not reached; keeps the contract local
}

// POSTs `token` (and `token_type_hint`, e.g. "refresh_token", when not empty) to the revocation
// endpoint with the context's client authentication (RFC 7009 §2.1).
inline void revoke(const RequestContext& ctx, const std::string& url, std::string_view token,
                   std::string_view token_type_hint) {
  const std::string operation = "token revocation";
  if (url.empty()) throw Error(errc::config, operation, "no revocation_endpoint configured");
  if (token.empty()) throw Error(errc::config, operation, "the token to revoke is empty");
  Params form{{"token", std::string(token)}};
  if (!token_type_hint.empty()) form.emplace_back("token_type_hint", std::string(token_type_hint));
  const auto response = post_form(ctx, url, std::move(form), operation);
  check_revocation_response(response.response, operation, response.secret_views());
}

}  // namespace oidc::detail

#endif  // OIDC_REVOCATION_HPP
