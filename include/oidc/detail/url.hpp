#ifndef OIDC_DETAIL_URL_HPP
#define OIDC_DETAIL_URL_HPP

#include <string>
#include <string_view>

#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

// Host part of an absolute http(s) URL, brackets kept for IPv6 ("[::1]"); "" if not such a URL.
inline std::string_view url_host(std::string_view url, std::string_view* scheme_out = nullptr) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  if (scheme_out) *scheme_out = url.substr(0, sep);
  auto rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

inline bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost") || host == "[::1]") return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (host.substr(0, 4) != "127.") return false;
  for (char c : host)
    if (c != '.' && (c < '0' || c > '9')) return false;
  return true;
}

// Refuses anything but https, except http to a loopback host (RFC 8252 §7.3 redirect listeners
// and local test servers) or when the application explicitly allows plain http.
inline void require_secure_url(std::string_view url, bool allow_insecure_http, const std::string& operation) {
  std::string_view scheme;
  const auto host = url_host(url, &scheme);
  if (host.empty()) throw Error(errc::config, operation, "not an absolute http(s) URL: " + std::string(url));
  if (iequals(scheme, "https")) return;
  if (iequals(scheme, "http")) {
    if (allow_insecure_http || is_loopback_host(host)) return;
    throw Error(errc::insecure_url, operation,
                "http:// to non-loopback host " + std::string(host) + " refused (set allow_insecure_http to permit)");
  }
  throw Error(errc::config, operation, "unsupported URL scheme: " + std::string(scheme));
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_URL_HPP
