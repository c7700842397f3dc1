#ifndef OIDC_TIME_FORMAT_HPP
#define OIDC_TIME_FORMAT_HPP

#include <chrono>
#include <string>

#include "oidc/token.hpp"  // detail::format_utc, which Token's operator<< uses too

namespace oidc {

/// \file
/// format_utc(), for showing times to people and logs.

/// RFC 3339 / ISO 8601 UTC with second precision: "2026-12-01T12:00:00Z". For showing expiries
/// (Token::expiry, DeviceAuthorization::expires_at) to people and logs.
[[nodiscard]] inline std::string format_utc(std::chrono::system_clock::time_point t) { return detail::format_utc(t); }

}  // namespace oidc

#endif  // OIDC_TIME_FORMAT_HPP
