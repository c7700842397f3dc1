#ifndef OIDC_TESTS_MESSAGE_HYGIENE_HPP
#define OIDC_TESTS_MESSAGE_HYGIENE_HPP

// The two invariants every oidc::Error built from a server's answer must keep, whatever the server
// sent: no raw control character (a terminal or log viewer would obey it) and no credential, in
// any encoding a server could have echoed it in. Written independently of the library's own
// printable()/redactor, so that a bug there cannot hide itself.
//
//   EXPECT_TRUE(oidc_testing::is_clean(error, {"client-secret", "access-token-from-body"}));

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oidc/error.hpp"

namespace oidc_testing {

// The first raw control character in `s`: C0 (< 0x20), DEL, ESC, C1 U+0080-U+009F (as UTF-8
// C2 80..C2 9F) and the 8-bit C1 bytes 0x80-0x9F standing alone (8-bit terminals read 0x9B as CSI).
// Returns its offset, or npos.
inline std::size_t first_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c < 0xC0) {  // a byte that continues no character
      if (c <= 0x9F) return i;
      ++i;
      continue;
    }
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return i;
    i += c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;  // the lead's length; validity is not this check's business
  }
  return std::string_view::npos;
}

// Ways a server may repeat a credential it was sent: as is, percent-encoded (%20 and form '+'),
// JSON-escaped (\" \\ and \u00XX), and escaped for display as \xNN (still the credential).
inline std::vector<std::string> echo_forms(const std::string& credential) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string percent, form, json, shown;
  for (char ch : credential) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    const std::string pct = {'%', hex[c >> 4], hex[c & 15]};
    percent += unreserved ? std::string(1, ch) : pct;
    form += unreserved ? std::string(1, ch) : c == ' ' ? std::string("+") : pct;
    if (c == '"' || c == '\\') json += std::string("\\") + ch;
    else if (c < 0x20) json += std::string("\\u00") + hex[c >> 4] + hex[c & 15];
    else json += ch;
    if (c < 0x20 || c == 0x7F) shown += std::string("\\x") + static_cast<char>(std::tolower(hex[c >> 4])) +
                                        static_cast<char>(std::tolower(hex[c & 15]));
    else if (c == '\\') shown += "\\\\";
    else shown += ch;
  }
  std::vector<std::string> out{credential};
  for (auto* f : {&percent, &form, &json, &shown})
    if (std::find(out.begin(), out.end(), *f) == out.end()) out.push_back(*f);
  return out;
}

// Checks one string: the name says which field failed.
inline ::testing::AssertionResult is_clean_text(std::string_view field, std::string_view text,
                                                const std::vector<std::string>& credentials) {
  if (const auto at = first_control(text); at != std::string_view::npos)
    return ::testing::AssertionFailure() << field << " holds raw control byte 0x" << std::hex
                                         << static_cast<int>(static_cast<unsigned char>(text[at])) << " at offset "
                                         << std::dec << at;
  for (const auto& credential : credentials) {
    if (credential.empty()) continue;
    for (const auto& form : echo_forms(credential))
      if (text.find(form) != std::string_view::npos)
        // Not printed: the failure output must not become the leak.
        return ::testing::AssertionFailure() << field << " holds a credential (" << credential.size()
                                             << " bytes, starting '" << credential.substr(0, 2) << "')";
  }
  return ::testing::AssertionSuccess();
}

// Every string of the Error: what(), operation, detail, body_snippet and the OAuth fields.
inline ::testing::AssertionResult is_clean(const oidc::Error& e, const std::vector<std::string>& credentials) {
  std::vector<std::pair<const char*, std::string_view>> fields{
      {"what()", e.what()}, {"operation()", e.operation()}, {"detail()", e.detail()},
      {"body_snippet()", e.body_snippet()}};
  if (e.oauth()) {
    fields.emplace_back("oauth()->error", e.oauth()->error);
    fields.emplace_back("oauth()->error_description", e.oauth()->error_description);
    fields.emplace_back("oauth()->error_uri", e.oauth()->error_uri);
  }
  for (const auto& [name, text] : fields)
    if (auto r = is_clean_text(name, text, credentials); !r) return r;
  return ::testing::AssertionSuccess();
}

}  // namespace oidc_testing

#endif  // OIDC_TESTS_MESSAGE_HYGIENE_HPP
