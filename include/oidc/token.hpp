#ifndef OIDC_TOKEN_HPP
#define OIDC_TOKEN_HPP

#include <chrono>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "oidc/detail/printable.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/http.hpp"
#include "oidc/secret.hpp"

namespace oidc {

/// A token response (RFC 6749 §5.1, plus OIDC's id_token and Keycloak's refresh_expires_in), with
/// lifetimes turned into absolute times at receipt. Immutable once handed out by a TokenSource.
/// Printing it (operator<<) shows no token value; token_to_json does, for storage.
struct Token {
  using time_point = std::chrono::system_clock::time_point;  ///< Wall-clock instant (Clock::now).

  Secret access_token;                ///< RFC 6749 §5.1 access_token; never empty in a parsed Token.
  std::string token_type;             ///< As received; type() normalises it.
  /// From expires_in (or a JWT access token's exp); none: the server did not say (see token_response.hpp).
  std::optional<time_point> expiry;
  Secret refresh_token;               ///< Empty: none issued.
  std::optional<time_point> refresh_expiry;  ///< Keycloak refresh_expires_in; none: unknown or unlimited.
  std::string scope;                  ///< Granted scope when the server said it (may be "").
  Secret id_token;                    ///< OpenID Connect ID token (compact JWT); empty: none.
  time_point received_at{};           ///< The client's Clock when the token was requested: lifetimes count from then.
  /// Every other response member (session_state, not-before-policy, ...). Token values are not here.
  nlohmann::json extra = nlohmann::json::object();

  /// The scheme for the Authorization header: "bearer" in any case is "Bearer" (seed 003 sends
  /// lowercase; RFC 6750 §2.1 spells it "Bearer"), DPoP likewise; an absent type means Bearer. Any
  /// other type is returned as is when it is an RFC 9110 token, and escaped with detail::printable
  /// otherwise (a Token built by hand), so the result never holds CR, LF or NUL.
  [[nodiscard]] std::string type() const {
    if (token_type.empty() || detail::iequals(token_type, "bearer")) return "Bearer";
    if (detail::iequals(token_type, "dpop")) return "DPoP";
    if (detail::iequals(token_type, "mac")) return "MAC";
    if (detail::is_http_token(token_type)) return token_type;
    return detail::printable(token_type, detail::token_type_max_bytes);
  }

  /// "Bearer eyJ...": the value of an Authorization request header (RFC 6750 §2.1). It cannot hold
  /// CR, LF or NUL for a Token from parse_token_response or token_from_json: both refuse access
  /// tokens outside RFC 6750 b64token (Bearer, DPoP) or VSCHAR (other types), see
  /// detail::token_problem. For a Token built by hand that is the builder's duty (and the
  /// transport refuses such header values).
  /// \note The result holds the access token in clear: send it, never log it.
  [[nodiscard]] std::string authorization_header() const {
    std::string h = type();
    h += ' ';
    h += access_token.expose();
    return h;
  }

  /// True when the token is unusable at \p now, counting \p skew of margin before the expiry.
  /// A token without expiry never counts as expired.
  [[nodiscard]] bool expired(time_point now, std::chrono::seconds skew = std::chrono::seconds{0}) const {
    return expiry && now + skew >= *expiry;
  }

  /// Whether a refresh token was issued (RFC 6749 §5.1).
  [[nodiscard]] bool has_refresh_token() const noexcept { return !refresh_token.empty(); }

  /// Whether there is a refresh token not known to have expired at \p now: one known to have
  /// expired is not worth sending.
  [[nodiscard]] bool refresh_token_usable(time_point now) const {
    return has_refresh_token() && !(refresh_expiry && now >= *refresh_expiry);
  }
};

namespace detail {

// The character rules for a Token's strings (see detail/validate.hpp), for every way a Token is
// made from outside data: token_type an RFC 6749 type (or empty: Bearer); access_token an
// RFC 6750 b64token for Bearer and DPoP, VSCHAR for other types; refresh_token VSCHAR; id_token
// compact JWS/JWE characters; scope RFC 6749 §3.3 scope-tokens. Returns the first broken rule,
// naming the member but never its value; nullopt when all hold.
inline std::optional<std::string> token_problem(const Token& t) {
  if (!t.token_type.empty() && !is_token_type(t.token_type)) return std::string("token_type is not an RFC 6749 token type");
  const bool b64 = t.token_type.empty() || iequals(t.token_type, "bearer") || iequals(t.token_type, "dpop");
  if (b64 && !is_b64token(t.access_token.expose()))
    return std::string("access_token is not an RFC 6750 b64token (letters, digits, -._~+/ then = padding)");
  if (!b64 && !is_vschar_string(t.access_token.expose()))
    return std::string("access_token is not RFC 6749 VSCHAR text");
  if (t.has_refresh_token() && !is_vschar_string(t.refresh_token.expose()))
    return std::string("refresh_token is not RFC 6749 VSCHAR text");
  if (!t.id_token.empty() && !is_compact_jose(t.id_token.expose()))
    return std::string("id_token is not a compact JWS (base64url segments joined by '.')");
  if (!is_scope(t.scope)) return std::string("scope is not RFC 6749 scope-tokens separated by spaces");
  return std::nullopt;
}

inline std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
#if defined(_WIN32)
  gmtime_s(&tm, &tt);
#else
  gmtime_r(&tt, &tm);
#endif
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace detail

/// Diagnostic form: type, expiry (UTC), refresh expiry and scope; token values print as [redacted].
inline std::ostream& operator<<(std::ostream& os, const Token& t) {
  os << "Token{type=" << t.type() << ", access_token=" << t.access_token;
  os << ", expiry=" << (t.expiry ? detail::format_utc(*t.expiry) : std::string("unknown"));
  if (t.has_refresh_token()) {
    os << ", refresh_token=" << t.refresh_token;
    if (t.refresh_expiry) os << ", refresh_expiry=" << detail::format_utc(*t.refresh_expiry);
  }
  if (!t.id_token.empty()) os << ", id_token=" << t.id_token;
  return os << ", scope=\"" << t.scope << "\"}";
}

}  // namespace oidc

#endif  // OIDC_TOKEN_HPP
