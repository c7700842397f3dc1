#ifndef OIDC_DETAIL_BASE64_HPP
#define OIDC_DETAIL_BASE64_HPP

#include <array>
#include <cstddef>
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
// encoding (two different strings can never decode to one JWS part or key member). Table-driven
// and writing into a buffer of the exact size: every ID token validation decodes three segments.
inline std::optional<std::string> base64url_decode_strict(std::string_view in) {
  static constexpr auto table = [] {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 26; ++i) {
      t[static_cast<std::size_t>('A' + i)] = static_cast<signed char>(i);
      t[static_cast<std::size_t>('a' + i)] = static_cast<signed char>(26 + i);
    }
    for (int i = 0; i < 10; ++i) t[static_cast<std::size_t>('0' + i)] = static_cast<signed char>(52 + i);
    t[static_cast<std::size_t>('-')] = 62;
    t[static_cast<std::size_t>('_')] = 63;
    return t;
  }();
  const std::size_t rest = in.size() % 4;
  if (rest == 1) return std::nullopt;
  std::string out(in.size() * 3 / 4, '\0');
  auto value = [&](std::size_t i) { return table[static_cast<unsigned char>(in[i])]; };
  std::size_t o = 0, i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const int a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
    if ((a | b | c | d) < 0) return std::nullopt;
    const auto n = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(c) << 6) | std::uint32_t(d);
    out[o++] = static_cast<char>(n >> 16);
    out[o++] = static_cast<char>((n >> 8) & 0xFF);
    out[o++] = static_cast<char>(n & 0xFF);
  }
  if (rest != 0) {
    const int a = value(i), b = value(i + 1), c = rest == 3 ? value(i + 2) : 0;
    if ((a | b | c) < 0) return std::nullopt;
    // Non-canonical: the bits after the last whole byte must be zero.
    if (rest == 2 ? (b & 0x0F) != 0 : (c & 0x03) != 0) return std::nullopt;
    out[o++] = static_cast<char>((a << 2) | (b >> 4));
    if (rest == 3) out[o++] = static_cast<char>(((b & 0x0F) << 4) | (c >> 2));
  }
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_BASE64_HPP
