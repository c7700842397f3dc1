#ifndef OIDC_DETAIL_BASE64_HPP
#define OIDC_DETAIL_BASE64_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oidc::detail {

inline std::string base64_encode(std::string_view in, bool url = false) {
  static constexpr char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url ? url_alphabet : std_alphabet;
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                   std::uint8_t(in[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (rest == 2) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (rest == 2) out += alphabet[(n >> 6) & 63];
    if (!url) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

inline std::string base64url_encode(std::string_view in) { return base64_encode(in, true); }

// Accepts both alphabets, with or without padding (JWTs omit it). nullopt on any other character.
inline std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character cannot encode a byte
  return out;
}

// The base64url of JOSE (RFC 7515 §2): the URL alphabet only, no padding, no whitespace, and the
// unused low bits of the last character zero, so every byte string has exactly one accepted
// encoding (two different strings can never decode to one JWS part or key member).
inline std::optional<std::string> base64url_decode_strict(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  for (char c : in)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return std::nullopt;
  auto out = base64_decode(in);
  if (out && base64url_encode(*out) != in) return std::nullopt;  // non-canonical trailing bits
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_BASE64_HPP
