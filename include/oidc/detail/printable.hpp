#ifndef OIDC_DETAIL_PRINTABLE_HPP
#define OIDC_DETAIL_PRINTABLE_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace oidc::detail {

// Server text made safe for a message, a log line or a terminal: C0 controls (CR, LF, TAB, ESC,
// NUL, ...), DEL and C1 controls (U+0080-U+009F, which some terminals also obey) become \xNN, and
// so does every byte that is not part of valid UTF-8. Everything else, including non-ASCII text,
// passes unchanged. A backslash is doubled, so an escape cannot be forged. `max_bytes` bounds the
// output (0: unbounded); a cut output ends with "...".
inline std::string printable(std::string_view in, std::size_t max_bytes = 0) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() < 256 ? in.size() : 256);
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 0x0F];
  };
  std::size_t i = 0;
  while (i < in.size()) {
    if (max_bytes != 0 && out.size() >= max_bytes) break;
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Length and validity of a UTF-8 sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    bool valid = len != 0 && i + len <= in.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(in[i + k]);
      valid = b >= (k == 1 ? lo : 0x80) && b <= (k == 1 ? hi : 0xBF);
    }
    // C1 controls are the two-byte sequences C2 80 .. C2 9F.
    if (!valid || (c == 0xC2 && static_cast<unsigned char>(in[i + 1]) < 0xA0)) {
      escape(c);
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  if (i < in.size()) out += "...";
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_PRINTABLE_HPP
