#ifndef OIDC_TOKEN_RESPONSE_HPP
#define OIDC_TOKEN_RESPONSE_HPP

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/jwt.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/token.hpp"

namespace oidc {

/// What a client accepts in a token response (RFC 6749 §5.1).
struct TokenResponseRules {
  /// `token_type` values taken, compared case-insensitively (RFC 6749 §5.1); default `Bearer`.
  /// Others are `errc::unsupported_token_type`: a token whose type the client cannot present (mac,
  /// an unknown extension) is useless, and sent as Bearer it would be misused. DPoP joins once
  /// proofs exist.
  std::vector<std::string> token_types{"Bearer"};
};

namespace detail {

// The string in member `name`, or nullptr when absent or null (servers send null for optional
// members); throws through `fail` when it is another JSON type.
template <class Fail>
const std::string* optional_string_member(const nlohmann::json& obj, const char* name, Fail&& fail) {
  const auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_string()) fail(errc::parse, std::string(name) + " is not a string");
  return &it->get_ref<const std::string&>();
}

}  // namespace detail

/// Builds a Token from a token endpoint response (RFC 6749 §5.1) received at \p now.
///
/// The body is a JSON object, or a form when labelled as a form or `text/plain` (older servers).
/// Validation: token_type must be a JSON string that is an RFC 6749 token type; absent (or null)
/// means Bearer, a lenience kept for servers that omit it. access_token must be an RFC 6750
/// b64token for Bearer and DPoP (so the Authorization header cannot be broken by CR, LF, NUL,
/// spaces or commas), VSCHAR for other types; refresh_token VSCHAR; id_token compact JWS
/// characters; scope scope-tokens, as a string or (some servers) an array of strings, joined with
/// spaces. An empty refresh_token or id_token counts as absent. The ID token is not verified here.
///
/// Expiry policy: `expires_in` (whole seconds, number or numeric string, clamped to ten years) when
/// positive; otherwise the `exp` claim of a JWT access token when it lies within
/// (now, now + ten years] (read, not verified: it is our own token's lifetime hint); otherwise none,
/// and TokenSource applies its configured default lifetime. `refresh_expires_in` sets
/// Token::refresh_expiry. Members other than the three tokens are kept in Token::extra.
///
/// \param operation names the call in error messages.
/// \param secrets   values the request sent (client secret, code, refresh token); they are masked
///                  in the body excerpt an error carries.
/// \throws oidc::Error `errc::oauth_error` for an RFC 6749 §5.2 error body (sanitised, see
///         Error::oauth()), `errc::http_status` for another non-2xx response, `errc::parse` for a
///         malformed response, `errc::unsupported_token_type` for a type not in \p rules.
inline Token parse_token_response(const HttpResponse& response, Token::time_point now,
                                  const std::string& operation = "token request",
                                  const std::vector<std::string_view>& secrets = {},
                                  const TokenResponseRules& rules = {}) {
  auto obj = detail::parse_oauth_response(response, operation, secrets);
  const auto fail = [&](errc code, std::string why) {
    detail::throw_malformed(code, response, operation, std::move(why), secrets);
  };
  Token t;
  t.received_at = now;

  if (const auto* type = detail::optional_string_member(obj, "token_type", fail)) {
    if (!detail::is_token_type(*type)) fail(errc::parse, "token_type is not an RFC 6749 token type");
    t.token_type = *type;
  }
  const std::string_view type = t.token_type.empty() ? std::string_view("Bearer") : std::string_view(t.token_type);
  if (std::none_of(rules.token_types.begin(), rules.token_types.end(),
                   [&](const std::string& accepted) { return detail::iequals(accepted, type); })) {
    std::string accepted;
    for (const auto& a : rules.token_types) accepted += (accepted.empty() ? "" : ", ") + a;
    fail(errc::unsupported_token_type, "token_type is not one of the accepted types (" + accepted + ")");
  }

  const auto* access_token = detail::optional_string_member(obj, "access_token", fail);
  if (!access_token || access_token->empty()) fail(errc::parse, "response has no access_token");
  t.access_token = *access_token;
  if (const auto* refresh_token = detail::optional_string_member(obj, "refresh_token", fail))
    t.refresh_token = *refresh_token;
  if (const auto* id_token = detail::optional_string_member(obj, "id_token", fail)) t.id_token = *id_token;
  if (const auto it = obj.find("scope"); it != obj.end() && !it->is_null()) {
    if (it->is_string()) {
      t.scope = it->get<std::string>();
    } else if (it->is_array()) {  // RFC 6749 §3.3 says a space-delimited string; some send an array
      for (const auto& s : *it) {
        if (!s.is_string() || !detail::is_scope_token(s.get_ref<const std::string&>()))
          fail(errc::parse, "scope array holds an element that is not an RFC 6749 scope-token");
        t.scope += (t.scope.empty() ? "" : " ") + s.get<std::string>();
      }
    } else {
      fail(errc::parse, "scope is neither a string nor an array of strings");
    }
  }
  if (const auto problem = detail::token_problem(t)) fail(errc::parse, *problem);

  if (const auto life = detail::lifetime_member(obj, "expires_in")) {
    t.expiry = now + *life;
  } else if (const auto exp = detail::unverified_jwt_exp(t.access_token.expose(), now)) {
    t.expiry = *exp;
  }
  if (const auto life = detail::lifetime_member(obj, "refresh_expires_in")) t.refresh_expiry = now + *life;

  obj.erase("access_token");
  obj.erase("refresh_token");
  obj.erase("id_token");
  t.extra = std::move(obj);
  return t;
}

}  // namespace oidc

#endif  // OIDC_TOKEN_RESPONSE_HPP
