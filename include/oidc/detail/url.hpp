#ifndef OIDC_DETAIL_URL_HPP
#define OIDC_DETAIL_URL_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "oidc/detail/form.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

// These checks decide whether plain http may be used, so they must see exactly the host libcurl
// connects to. They accept a deliberately narrow URL form and refuse everything libcurl would
// rewrite (percent-decoded hosts, numeric IPv4 forms such as 0x7f.1 or 2130706433, non-canonical
// IPv6, zone ids) or parse differently from a browser (several '@', backslashes, one slash).
// tests/integration/url_differential_test.cpp compares them with libcurl's own parser.

inline bool is_ascii_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_ascii_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// 1-5 digits, 1..65535.
inline bool is_valid_port(std::string_view port) noexcept {
  if (port.empty() || port.size() > 5) return false;
  unsigned long v = 0;
  for (char c : port) {
    if (!is_ascii_digit(c)) return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  return v >= 1 && v <= 65535;
}

// "a.b.c.d", each part decimal 0-255 without leading zeros: the one IPv4 spelling libcurl leaves as is.
inline bool is_dotted_quad(std::string_view host) noexcept {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < host.size() && is_ascii_digit(host[i]) && i - start < 3) v = v * 10 + static_cast<unsigned>(host[i++] - '0');
    const std::size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && host[start] == '0')) return false;
    ++parts;
    if (i == host.size()) return parts == 4;
    if (host[i] != '.' || parts == 4) return false;
    ++i;
  }
}

// An IPv6 address (no brackets) written exactly as RFC 5952 / inet_ntop print it, letter case
// aside. libcurl rewrites other spellings ("0:0::1" becomes "::1"), so those are refused rather
// than compared wrongly. Embedded IPv4 ("::ffff:127.0.0.1") and zone ids are refused too.
inline bool is_canonical_ipv6(std::string_view text) noexcept {
  if (text.size() < 2 || text.size() > 39) return false;
  std::array<std::uint16_t, 8> words{};
  int count = 0;
  int gap = -1;  // index in words where "::" stands
  std::size_t i = 0;
  if (text.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
  }
  while (i < text.size()) {
    if (count == 8) return false;
    unsigned v = 0;
    std::size_t digits = 0;
    while (i < text.size() && digits < 5 && hex_value(text[i]) >= 0) {
      v = v * 16 + static_cast<unsigned>(hex_value(text[i++]));
      ++digits;
    }
    if (digits == 0 || digits > 4) return false;
    words[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(v);
    if (i == text.size()) break;
    if (text[i] != ':') return false;
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (gap >= 0) return false;
      gap = count;
      ++i;
    } else if (i == text.size()) {
      return false;  // a trailing single ':'
    }
  }
  if (gap < 0 ? count != 8 : count > 7) return false;
  if (gap >= 0) {  // move the words after the gap to the end
    const int tail = count - gap;
    for (int k = 0; k < tail; ++k) words[static_cast<std::size_t>(7 - k)] = words[static_cast<std::size_t>(count - 1 - k)];
    for (int k = gap; k < 8 - tail; ++k) words[static_cast<std::size_t>(k)] = 0;
  }
  // The longest run of two or more zero words (the first of equals) is the one written as "::".
  int best = -1, best_len = 0;
  for (int k = 0; k < 8;) {
    if (words[static_cast<std::size_t>(k)] != 0) {
      ++k;
      continue;
    }
    int run = k;
    while (run < 8 && words[static_cast<std::size_t>(run)] == 0) ++run;
    if (run - k > best_len) best = k, best_len = run - k;
    k = run;
  }
  if (best_len < 2) best = -1;
  // inet_ntop writes these with a dotted IPv4 tail; refused, they are IPv4 addresses in disguise.
  if (best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) return false;
  std::string canonical;
  static constexpr char hex[] = "0123456789abcdef";
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      canonical += "::";
      k += best_len - 1;
      continue;
    }
    if (!canonical.empty() && canonical.back() != ':') canonical += ':';
    const unsigned w = words[static_cast<std::size_t>(k)];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (w >> shift) & 0xF;
      if (nibble != 0 || started || shift == 0) {
        canonical += hex[nibble];
        started = true;
      }
    }
  }
  return iequals(canonical, text);
}

// A DNS name of letters, digits, '-' and '_' labels (one trailing dot allowed), or a dotted quad.
// A name whose last label starts with a digit is numeric to some parser (libcurl reads "012" as
// 0.0.0.10, WHATWG reads "a.0x10" as an address), so it must then be a canonical dotted quad.
inline bool is_plain_host_name(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253) return false;
  std::string_view name = host.back() == '.' ? host.substr(0, host.size() - 1) : host;
  if (name.empty()) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (i == label_start) return false;  // empty label
      label_start = i + 1;
      continue;
    }
    const char c = name[i];
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '-' && c != '_') return false;
  }
  const auto last = name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.') + 1);
  if (is_ascii_digit(last.front())) return host.back() != '.' && is_dotted_quad(host);
  return true;
}

// RFC 3986 userinfo: unreserved, sub-delims, ':' and percent-escapes. '@', '[', '/' are not.
inline bool is_plain_userinfo(std::string_view userinfo) noexcept {
  for (char c : userinfo) {
    if (is_ascii_alpha(c) || is_ascii_digit(c)) continue;
    switch (c) {
      case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'': case '(':
      case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '%':
        continue;
      default:
        return false;
    }
  }
  return true;
}

// Host of an absolute http(s) URL, brackets kept for IPv6 ("[::1]"), letter case as written; ""
// when the URL is not one of the plain forms above. `scheme_out` receives the scheme whenever one
// was written ("ftp" too), for messages.
inline std::string_view url_host(std::string_view url, std::string_view* scheme_out = nullptr) {
  if (scheme_out) *scheme_out = {};
  if (!is_plain_url_text(url) || url.find('\\') != std::string_view::npos) return {};
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0 || !is_ascii_alpha(url.front())) return {};
  const auto scheme = url.substr(0, sep);
  for (char c : scheme)
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return {};
  if (scheme_out) *scheme_out = scheme;
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return {};

  auto authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.find('@'); at != std::string_view::npos) {
    if (!is_plain_userinfo(authority.substr(0, at))) return {};
    authority.remove_prefix(at + 1);  // a second '@' is left in the host, which refuses it
  }
  std::string_view host, rest;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || !is_canonical_ipv6(authority.substr(1, close - 1))) return {};
    host = authority.substr(0, close + 1);
    rest = authority.substr(close + 1);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    if (!is_plain_host_name(host)) return {};
  }
  if (!rest.empty() && (rest.front() != ':' || !is_valid_port(rest.substr(1)))) return {};
  return host;
}

// Only the spellings libcurl also reads as loopback: localhost, a dotted quad in 127.0.0.0/8,
// [::1]. "localhost." or "[::ffff:127.0.0.1]" may well be loopback too; refused to be sure.
inline bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost") || host == "[::1]") return true;
  return host.substr(0, 4) == "127." && is_dotted_quad(host);
}

// Refuses anything but https, except http to a loopback host (RFC 8252 §7.3 redirect listeners
// and local test servers) or when the application explicitly allows plain http. The URL itself
// is never quoted: it may carry credentials, and control bytes.
inline void require_secure_url(std::string_view url, bool allow_insecure_http, const std::string& operation) {
  std::string_view scheme;
  const auto host = url_host(url, &scheme);
  if (host.empty()) {
    if (!scheme.empty() && !iequals(scheme, "http") && !iequals(scheme, "https"))
      throw Error(errc::config, operation, "unsupported URL scheme: " + printable(scheme, 32));
    throw Error(errc::config, operation,
                "not an absolute http(s) URL of plain form (refused: control bytes, spaces, backslashes, non-ASCII, "
                "several '@', percent-encoded or numeric-looking host names other than a dotted quad, "
                "non-canonical IPv6, zone ids, bad ports)");
  }
  if (iequals(scheme, "https")) return;
  if (allow_insecure_http || is_loopback_host(host)) return;
  throw Error(errc::insecure_url, operation,
              "http:// to non-loopback host " + std::string(host) + " refused (set allow_insecure_http to permit)");
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_URL_HPP
