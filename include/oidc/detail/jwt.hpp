#ifndef OIDC_DETAIL_JWT_HPP
#define OIDC_DETAIL_JWT_HPP

#include <chrono>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/validate.hpp"

namespace oidc::detail {

// The payload of a compact JWS, decoded WITHOUT verifying anything. Only for hints the server gave
// us about our own token (its exp); never for authorization decisions. Parsed with parse_json
// (depth limit, a claim named twice makes the payload unusable).
inline std::optional<nlohmann::json> unverified_jwt_payload(std::string_view jwt) {
  const auto first = jwt.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = jwt.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto decoded = base64_decode(jwt.substr(first + 1, second - first - 1));
  if (!decoded) return std::nullopt;
  auto payload = parse_json(*decoded);
  if (!payload.ok() || !payload.value.is_object()) return std::nullopt;
  return std::move(payload.value);
}

// The `exp` claim of an unverified JWT as an expiry hint: a NumericDate (detail::numeric_date)
// within (now, now + max_lifetime]. An exp in the past, too far ahead, negative, fractional junk
// beyond range or not a number is no hint at all (nullopt), so a bogus claim can neither make a
// fresh token look expired (a renewal storm) nor keep one cached for centuries.
inline std::optional<std::chrono::system_clock::time_point> unverified_jwt_exp(
    std::string_view jwt, std::chrono::system_clock::time_point now) {
  const auto payload = unverified_jwt_payload(jwt);
  if (!payload) return std::nullopt;
  const auto it = payload->find("exp");
  if (it == payload->end()) return std::nullopt;
  const auto exp = numeric_date(*it);
  if (!exp || *exp <= now || *exp - now > max_lifetime) return std::nullopt;
  return exp;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_JWT_HPP
