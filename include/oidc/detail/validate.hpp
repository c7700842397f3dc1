#ifndef OIDC_DETAIL_VALIDATE_HPP
#define OIDC_DETAIL_VALIDATE_HPP

// The validation boundary for values a server sends (token, device authorization and error
// responses, saved tokens, JWT claims; later discovery and JWKS). Every parser turns server values
// into typed values through these functions, so each rule exists once:
//
//  * character rules for strings that end up in headers, requests or on a terminal;
//  * lifetimes (expires_in, refresh_expires_in, interval) and instants (JWT exp/iat, saved
//    times), range-checked before any conversion, so no input is undefined behaviour and none
//    yields a wrapped or past expiry;
//  * server URIs shown to a user or followed.
//
// Functions return the typed value, or nullopt / a problem text; the caller throws oidc::Error with
// the member's name. Problem texts name the rule, never the value: values are credentials or
// attacker-chosen text.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oidc/detail/printable.hpp"
#include "oidc/detail/url.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

// ---- Characters -------------------------------------------------------------------------------

inline bool is_alpha_digit(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". What a
// Bearer (or DPoP) access token must be to go after the scheme in an Authorization header.
inline bool is_b64token(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size() && (is_alpha_digit(s[i]) || std::string_view("-._~+/").find(s[i]) != std::string_view::npos))
    ++i;
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

// RFC 6749 Appendix A: 1*VSCHAR, VSCHAR = %x20-7E (printable ASCII, space included). The rule for
// refresh_token, device_code and access tokens of other types: nothing that can break a header
// or a terminal.
inline bool is_vschar_string(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

// The characters of a compact JWS or JWE (base64url segments joined by '.'); the ID token's
// signature is checked elsewhere, this only keeps other bytes out.
inline bool is_compact_jose(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_alpha_digit(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
inline bool is_scope_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') return false;
  return true;
}

// A scope string: scope-tokens separated by spaces. The empty string is accepted (Keycloak sends
// "scope": "") and so are repeated spaces, which are harmless.
inline bool is_scope(std::string_view s) noexcept {
  while (!s.empty()) {
    const auto sp = s.find(' ');
    const auto token = s.substr(0, sp);
    if (!token.empty() && !is_scope_token(token)) return false;
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return true;
}

// Whether the space-separated `scope` contains `token`.
inline bool has_scope_token(std::string_view scope, std::string_view token) noexcept {
  while (!scope.empty()) {
    const auto sp = scope.find(' ');
    if (scope.substr(0, sp) == token) return true;
    if (sp == std::string_view::npos) break;
    scope.remove_prefix(sp + 1);
  }
  return false;
}

// RFC 6749 Appendix A.13: token_type = type-name / URI-reference, type-name = 1*name-char,
// name-char = "-" / "." / "_" / DIGIT / ALPHA. URI-reference types (extensions) are admitted by
// their characters (RFC 3986 unreserved, reserved and '%'): no control byte, space or quote.
inline constexpr std::size_t token_type_max_bytes = 128;
inline bool is_token_type(std::string_view s) noexcept {
  if (s.empty() || s.size() > token_type_max_bytes) return false;
  for (char c : s)
    if (!is_alpha_digit(c) && std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) == std::string_view::npos)
      return false;
  return true;
}

// RFC 9110 §5.6.2 token (tchar): what may stand as an authentication scheme in a header.
inline bool is_http_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_alpha_digit(c) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  return true;
}

// Text that may be shown on a terminal as is: valid UTF-8 without C0 or C1 controls (ESC, CR, LF,
// NUL, ...) or DEL, non-empty and at most `max_bytes`. Defined as "printable() leaves it
// unchanged" so that one function decides what a terminal may see; printable() only doubles
// backslashes, which are harmless, so those are allowed.
inline bool is_printable_text(std::string_view s, std::size_t max_bytes) {
  if (s.empty() || s.size() > max_bytes) return false;
  std::size_t backslashes = 0;
  for (char c : s) backslashes += c == '\\' ? 1 : 0;
  // Every other escape turns one byte into four, so any escape shows in the length.
  return printable(s).size() == s.size() + backslashes;
}

// ---- Lifetimes and instants -------------------------------------------------------------------

// Longest lifetime taken from a server: longer ones are clamped to it, so that `now + lifetime`
// can never overflow a time point and no token is cached "forever" by mistake.
inline constexpr std::chrono::seconds max_lifetime{10LL * 365 * 24 * 3600};

// A JSON number, or a string of ASCII digits (as some providers send "3600"), as whole seconds:
// fractions are floored, negative values become 0, values above `max_lifetime` become
// `max_lifetime`. nullopt for anything else (bool, null, "soon", "-5", "1e3", an infinite or NaN
// double). Every conversion happens after the range check, so no input is undefined behaviour.
inline std::optional<std::int64_t> whole_seconds(const nlohmann::json& v) {
  constexpr std::int64_t cap = max_lifetime.count();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(cap) ? cap : static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    return i < 0 ? 0 : (i > cap ? cap : i);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    if (d <= 0) return 0;
    if (d >= static_cast<double>(cap)) return cap;
    return static_cast<std::int64_t>(std::floor(d));
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    std::int64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n > cap ? n : n * 10 + (c - '0');  // saturates: n stays below 10 * cap + 9
    }
    return n > cap ? cap : n;
  }
  return std::nullopt;
}

// A lifetime (expires_in, refresh_expires_in): whole_seconds() when positive; zero, negative,
// non-finite and non-numeric values are unknown (nullopt), so the cache's default lifetime applies.
inline std::optional<std::chrono::seconds> lifetime(const nlohmann::json& v) {
  const auto s = whole_seconds(v);
  if (!s || *s <= 0) return std::nullopt;
  return std::chrono::seconds{*s};
}

// The lifetime in member `name` of `obj`; absent is unknown.
inline std::optional<std::chrono::seconds> lifetime_member(const nlohmann::json& obj, const char* name) {
  const auto it = obj.find(name);
  return it == obj.end() ? std::nullopt : lifetime(*it);
}

// RFC 8628 §3.2 polling interval: 5 s when absent or not numeric; otherwise clamped to [1 s, 60 s]
// (a longer interval would let the code expire between two polls; servers that need more send
// slow_down), and never above the code's `expires_in`, so at least one poll happens in time.
inline constexpr std::chrono::seconds min_device_interval{1};
inline constexpr std::chrono::seconds max_device_interval{60};
inline constexpr std::chrono::seconds default_device_interval{5};
inline std::chrono::seconds device_interval(const nlohmann::json* v, std::chrono::seconds expires_in) {
  auto interval = default_device_interval;
  if (v)
    if (const auto s = whole_seconds(*v))
      interval = std::clamp(std::chrono::seconds{*s}, min_device_interval, max_device_interval);
  return std::max(min_device_interval, std::min(interval, expires_in));
}

// Latest instant taken from outside (saved tokens, JWT claims), in Unix seconds: what a
// system_clock::time_point holds (about year 2262 with libstdc++'s nanoseconds), less
// `max_lifetime` of margin so that arithmetic near it (expiry + skew) cannot overflow.
inline constexpr std::int64_t max_unix_seconds =
    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::time_point::max().time_since_epoch())
        .count() -
    max_lifetime.count();

// Unix seconds as a time point; nullopt when negative or beyond max_unix_seconds.
inline std::optional<std::chrono::system_clock::time_point> unix_instant(std::int64_t s) {
  if (s < 0 || s > max_unix_seconds) return std::nullopt;
  return std::chrono::system_clock::time_point{std::chrono::seconds{s}};
}

// RFC 7519 NumericDate (exp, iat, nbf, auth_time): a JSON number of seconds since the epoch,
// fractions floored; nullopt when not a number, not finite, negative or beyond max_unix_seconds.
inline std::optional<std::chrono::system_clock::time_point> numeric_date(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max_unix_seconds)) return std::nullopt;
    return unix_instant(static_cast<std::int64_t>(u));
  }
  if (v.is_number_integer()) return unix_instant(v.get<std::int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(max_unix_seconds)) return std::nullopt;
    return unix_instant(static_cast<std::int64_t>(std::floor(d)));
  }
  return std::nullopt;
}

// ---- Server URIs ------------------------------------------------------------------------------

inline constexpr std::size_t server_uri_max_bytes = 2048;

// A URI from a server that a user is sent to or that we follow (verification_uri, error_uri,
// discovery endpoints): absolute https, or http to a loopback host (any host with
// `allow_insecure_http`); ASCII without control characters or spaces; at most 2048 bytes. Returns
// the problem, or nullopt when acceptable. The problem never quotes the URI.
inline std::optional<std::string> check_server_uri(std::string_view uri, bool allow_insecure_http) {
  if (uri.empty()) return std::string("is empty");
  if (uri.size() > server_uri_max_bytes)
    return "is longer than " + std::to_string(server_uri_max_bytes) + " bytes";
  for (char ch : uri) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) return std::string("contains a control character, space or non-ASCII byte");
  }
  std::string_view scheme;
  const auto host = url_host(uri, &scheme);
  if (host.empty() || !(iequals(scheme, "https") || iequals(scheme, "http")))
    return std::string("is not an absolute https URI");
  if (iequals(scheme, "http") && !allow_insecure_http && !is_loopback_host(host))
    return std::string("is http:// to a non-loopback host");
  return std::nullopt;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_VALIDATE_HPP
