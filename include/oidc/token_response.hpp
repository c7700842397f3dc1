#ifndef OIDC_TOKEN_RESPONSE_HPP
#define OIDC_TOKEN_RESPONSE_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/jwt.hpp"
#include "oidc/detail/response.hpp"
#include "oidc/token.hpp"

namespace oidc {
namespace detail {

// A lifetime in seconds given as a JSON number or numeric string ("3600", as some providers send).
// Zero, negative, fractional junk or absent: nullopt. Clamped to ten years so time arithmetic
// cannot overflow.
inline std::optional<std::chrono::seconds> lifetime_member(const nlohmann::json& obj, const char* name) {
  const auto it = obj.find(name);
  if (it == obj.end()) return std::nullopt;
  std::int64_t v = 0;
  if (it->is_number_integer()) {
    v = it->get<std::int64_t>();
  } else if (it->is_number_float()) {
    v = static_cast<std::int64_t>(it->get<double>());
  } else if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    v = std::stoll(s);
  } else {
    return std::nullopt;
  }
  constexpr std::int64_t ten_years = 10LL * 365 * 24 * 3600;
  if (v <= 0) return std::nullopt;
  return std::chrono::seconds{v < ten_years ? v : ten_years};
}

}  // namespace detail

// Builds a Token from a token endpoint response received at `now`, or throws oidc::Error.
//
// Expiry policy: `expires_in` (number or numeric string) when present and positive; otherwise the
// `exp` claim of a JWT access token (read, not verified: it is our own token's lifetime hint);
// otherwise none, and TokenSource applies its configured default lifetime.
inline Token parse_token_response(const HttpResponse& response, Token::time_point now,
                                  const std::string& operation = "token request",
                                  const std::vector<std::string_view>& secrets = {}) {
  auto obj = detail::parse_oauth_response(response, operation, secrets);
  Token t;
  t.received_at = now;
  t.access_token = detail::string_member(obj, "access_token");
  if (t.access_token.empty())
    detail::throw_malformed(errc::parse, response, operation, "response has no access_token", secrets);
  t.token_type = detail::string_member(obj, "token_type");
  if (const auto life = detail::lifetime_member(obj, "expires_in")) {
    t.expiry = now + *life;
  } else if (const auto exp = detail::unverified_jwt_exp(t.access_token.expose())) {
    t.expiry = std::chrono::system_clock::time_point{std::chrono::seconds{*exp}};
  }
  t.refresh_token = detail::string_member(obj, "refresh_token");
  if (const auto life = detail::lifetime_member(obj, "refresh_expires_in")) t.refresh_expiry = now + *life;
  // Some servers send scope as a JSON array; RFC 6749 §3.3 says space-delimited string.
  if (const auto it = obj.find("scope"); it != obj.end()) {
    if (it->is_string()) {
      t.scope = it->get<std::string>();
    } else if (it->is_array()) {
      for (const auto& s : *it)
        if (s.is_string()) t.scope += (t.scope.empty() ? "" : " ") + s.get<std::string>();
    }
  }
  t.id_token = detail::string_member(obj, "id_token");
  obj.erase("access_token");
  obj.erase("refresh_token");
  obj.erase("id_token");
  t.extra = std::move(obj);
  return t;
}

}  // namespace oidc

#endif  // OIDC_TOKEN_RESPONSE_HPP
