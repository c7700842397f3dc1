#ifndef OIDC_TOKEN_HPP
#define OIDC_TOKEN_HPP

#include <chrono>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "oidc/http.hpp"
#include "oidc/secret.hpp"

namespace oidc {

// A token response (RFC 6749 §5.1, plus OIDC's id_token and Keycloak's refresh_expires_in), with
// lifetimes turned into absolute times at receipt. Immutable once handed out by a TokenSource.
struct Token {
  using time_point = std::chrono::system_clock::time_point;

  Secret access_token;
  std::string token_type;             // as received; type() normalises it
  std::optional<time_point> expiry;   // none: the server did not say (see token_response.hpp)
  Secret refresh_token;               // empty: none issued
  std::optional<time_point> refresh_expiry;  // Keycloak refresh_expires_in; none: unknown or unlimited
  std::string scope;                  // granted scope when the server said it (may be "")
  Secret id_token;                    // OpenID Connect; empty: none
  time_point received_at{};
  // Every other response member (session_state, not-before-policy, ...). Token values are not here.
  nlohmann::json extra = nlohmann::json::object();

  // The scheme for the Authorization header: "bearer" in any case is "Bearer" (seed 003 sends
  // lowercase; RFC 6750 §2.1 spells it "Bearer"), DPoP likewise; an absent type means Bearer.
  [[nodiscard]] std::string type() const {
    if (token_type.empty() || detail::iequals(token_type, "bearer")) return "Bearer";
    if (detail::iequals(token_type, "dpop")) return "DPoP";
    if (detail::iequals(token_type, "mac")) return "MAC";
    return token_type;
  }

  // "Bearer eyJ...": the value of an Authorization request header (RFC 6750 §2.1).
  [[nodiscard]] std::string authorization_header() const {
    std::string h = type();
    h += ' ';
    h += access_token.expose();
    return h;
  }

  // True when the token is unusable at `now`, counting `skew` of margin before the expiry.
  [[nodiscard]] bool expired(time_point now, std::chrono::seconds skew = std::chrono::seconds{0}) const {
    return expiry && now + skew >= *expiry;
  }

  [[nodiscard]] bool has_refresh_token() const noexcept { return !refresh_token.empty(); }

  // A refresh token known to have expired is not worth sending.
  [[nodiscard]] bool refresh_token_usable(time_point now) const {
    return has_refresh_token() && !(refresh_expiry && now >= *refresh_expiry);
  }
};

namespace detail {
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

// Diagnostic form; token values print as [redacted].
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
