#ifndef OIDC_DETAIL_JWT_HPP
#define OIDC_DETAIL_JWT_HPP

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oidc/detail/base64.hpp"

namespace oidc::detail {

// The payload of a compact JWS, decoded WITHOUT verifying anything. Only for hints the server gave
// us about our own token (its exp); never for authorization decisions.
inline std::optional<nlohmann::json> unverified_jwt_payload(std::string_view jwt) {
  const auto first = jwt.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = jwt.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto decoded = base64_decode(jwt.substr(first + 1, second - first - 1));
  if (!decoded) return std::nullopt;
  auto payload = nlohmann::json::parse(*decoded, nullptr, false);
  if (!payload.is_object()) return std::nullopt;
  return payload;
}

inline std::optional<std::int64_t> unverified_jwt_exp(std::string_view jwt) {
  const auto payload = unverified_jwt_payload(jwt);
  if (!payload) return std::nullopt;
  const auto it = payload->find("exp");
  if (it == payload->end() || !it->is_number()) return std::nullopt;
  return it->get<std::int64_t>();
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_JWT_HPP
