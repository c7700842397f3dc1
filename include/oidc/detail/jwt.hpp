#ifndef OIDC_DETAIL_JWT_HPP
#define OIDC_DETAIL_JWT_HPP

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/validate.hpp"

namespace oidc::detail {

// The segments of a compact serialization (RFC 7515 §7.1, RFC 7516 §7.1): the one splitter of the
// library, used by parse_jws and by the unverified exp hint. `segments` is the number of
// '.'-separated parts; header, payload and signature are set only when it is 3.
struct CompactParts {
  std::size_t segments = 0;
  std::string_view header, payload, signature;
  std::string_view signing_input;  // header '.' payload, as received
};

inline CompactParts split_compact(std::string_view compact) noexcept {
  CompactParts parts;
  parts.segments = 1;
  for (char c : compact) parts.segments += c == '.' ? 1 : 0;
  if (parts.segments != 3) return parts;
  const auto first = compact.find('.');
  const auto second = compact.find('.', first + 1);
  parts.header = compact.substr(0, first);
  parts.payload = compact.substr(first + 1, second - first - 1);
  parts.signature = compact.substr(second + 1);
  parts.signing_input = compact.substr(0, second);
  return parts;
}

// The payload of a compact JWS, decoded WITHOUT verifying anything. Only for hints the server gave
// us about our own token (its exp); never for authorization decisions. Parsed with parse_json
// (depth limit, a claim named twice makes the payload unusable). The lenient base64 decoder is
// enough for a hint; parse_jws, which feeds decisions, decodes strictly.
inline std::optional<nlohmann::json> unverified_jwt_payload(std::string_view jwt) {
  const auto parts = split_compact(jwt);
  if (parts.segments != 3) return std::nullopt;
  const auto decoded = base64_decode(parts.payload);
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
