#ifndef OIDC_DETAIL_FORM_HPP
#define OIDC_DETAIL_FORM_HPP

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oidc {

// Ordered request parameters (form fields or query parameters); order is kept so requests are
// reproducible byte for byte.
using Params = std::vector<std::pair<std::string, std::string>>;

namespace detail {

// %XX-encodes every byte that `keep` does not accept, except space, which becomes '+'.
template <class Keep>
std::string plus_percent_encode(std::string_view in, Keep keep) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (keep(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

inline bool is_alnum(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// application/x-www-form-urlencoded as in RFC 6749 Appendix B (HTML5 serializer): unreserved
// characters pass, space becomes '+', everything else is %XX.
inline std::string form_encode_component(std::string_view in) {
  return plus_percent_encode(
      in, [](unsigned char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '*'; });
}

inline std::string form_encode(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += form_encode_component(name);
    out += '=';
    out += form_encode_component(value);
  }
  return out;
}

inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Lenient inverse of form_encode: a malformed %-escape is kept literally rather than rejected.
inline std::string form_decode_component(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Strict inverse of form_encode_component for values a server sends us: nullopt for a '%' not
// followed by two hex digits.
inline std::optional<std::string> form_decode_component_strict(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size() || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0) return std::nullopt;
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// Parses "a=1&b=2" (a query string, a URL fragment, or a form body).
inline Params form_decode(std::string_view in) {
  Params out;
  while (!in.empty()) {
    const auto amp = in.find('&');
    const auto pair = in.substr(0, amp);
    in = amp == std::string_view::npos ? std::string_view{} : in.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    out.emplace_back(form_decode_component(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string{} : form_decode_component(pair.substr(eq + 1)));
  }
  return out;
}

// The first value of `name` in `params`, nullptr when absent.
inline const std::string* find_parameter(const Params& params, std::string_view name) {
  for (const auto& [n, v] : params)
    if (n == name) return &v;
  return nullptr;
}

// The first value of `name` in `params`, "" when absent.
inline std::string parameter_value(const Params& params, std::string_view name) {
  const std::string* v = find_parameter(params, name);
  return v ? *v : std::string();
}

}  // namespace detail
}  // namespace oidc

#endif  // OIDC_DETAIL_FORM_HPP
