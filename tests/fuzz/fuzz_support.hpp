#ifndef OIDC_TESTS_FUZZ_SUPPORT_HPP
#define OIDC_TESTS_FUZZ_SUPPORT_HPP

// Shared by the libFuzzer harnesses: a readable text form of an HTTP response (so corpus files are
// the provider documents' exchanges as plain text), and the invariant checks. A failed invariant
// prints what broke and aborts, which libFuzzer reports as a crash and saves as a reproducer.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/form.hpp"
#include "oidc/detail/printable.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc_fuzz {

// The credential the harnesses send; it must never come back in a message.
inline constexpr std::string_view kSecret = "Tr0ub4dor&3";

[[noreturn]] inline void fail(const char* invariant, std::string_view offending = {}) {
  std::fprintf(stderr, "\nINVARIANT FAILED: %s\n  value: %s\n", invariant,
               oidc::detail::printable(offending, 2000).c_str());
  std::abort();
}

inline void check(bool ok, const char* invariant, std::string_view offending = {}) {
  if (!ok) fail(invariant, offending);
}

// C0 controls (NUL, CR, LF, ESC, ...) and DEL.
inline bool has_control(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

inline bool has_crlf_nul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

// An error's message and every part it is made of carry no control byte (checked part by part too,
// because what() is read as a C string and would hide anything after a NUL). For harnesses that
// send no secret: their input may quote any printable text, the harness secret included.
inline void check_clean(const oidc::Error& e) {
  const std::string_view what = e.what();
  check(!has_control(what), "Error::what() has no control byte", what);
  check(!has_control(e.detail()), "Error::detail() has no control byte", e.detail());
  check(!has_control(e.body_snippet()), "Error::body_snippet() has no control byte", e.body_snippet());
  if (const auto& o = e.oauth()) {
    check(!has_control(o->error), "oauth()->error has no control byte", o->error);
    check(!has_control(o->error_description), "oauth()->error_description has no control byte", o->error_description);
    check(!has_control(o->error_uri), "oauth()->error_uri has no control byte", o->error_uri);
  }
}

// check_clean, and the message does not hold the secret the harness sent.
inline void check_error(const oidc::Error& e) {
  check_clean(e);
  const std::string_view what = e.what();
  check(what.find(kSecret) == std::string_view::npos, "Error::what() does not contain the sent secret", what);
}

// The forms in which a server may echo a value back: as sent, form-encoded, JSON-escaped.
// JSON can only carry a secret that is valid UTF-8: for any other, a server's JSON encoder fails or
// substitutes U+FFFD, which is not an echo of the secret but of another string.
inline std::optional<std::string> json_escaped(std::string_view secret) {
  try {
    const auto quoted = nlohmann::json(std::string(secret)).dump();
    return quoted.substr(1, quoted.size() - 2);
  } catch (const nlohmann::json::type_error&) {
    return std::nullopt;
  }
}

// The inverse of detail::printable: "\\" is one backslash, "\xNN" one byte, all else as is. The
// escaping is a prefix code read left to right, so this recovers exactly what was escaped, and a
// leak check on the result cannot be fooled by the escaper's own backslashes.
inline std::string unprintable(std::string_view s) {
  auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

inline std::vector<std::string> encodings_of(std::string_view secret) {
  std::vector<std::string> out{std::string(secret), oidc::detail::form_encode_component(secret)};
  if (auto escaped = json_escaped(secret)) out.push_back(std::move(*escaped));
  return out;
}

// Text form of an HTTP response, one file per response:
//
//   200                          status line: an optional '-' and decimal digits (more than 9 are
//   Content-Type: application/json   ignored, so any int is reachable); then header lines
//                                up to an empty line ("Name: value"; one space after ':' is
//   {"access_token": "..."}      dropped; a value may hold any byte but LF, as a transport
//                                splitting lines delivers it); the rest is the body, verbatim.
inline oidc::HttpResponse parse_http(std::string_view in) {
  oidc::HttpResponse r;
  auto line = [&]() {
    const auto nl = in.find('\n');
    const auto l = in.substr(0, nl);
    in = nl == in.npos ? std::string_view{} : in.substr(nl + 1);
    return l;
  };
  const auto status = line();
  std::size_t i = 0;
  const bool negative = !status.empty() && status[0] == '-';
  if (negative) ++i;
  long v = 0;
  for (int digits = 0; i < status.size() && status[i] >= '0' && status[i] <= '9' && digits < 9; ++i, ++digits)
    v = v * 10 + (status[i] - '0');
  r.status = static_cast<int>(negative ? -v : v);
  while (!in.empty()) {
    const auto l = line();
    if (l.empty()) break;
    const auto colon = l.find(':');
    auto value = colon == l.npos ? std::string_view{} : l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    // A field Headers refuses (CR, NUL, a bad name) never reaches a parser: the libcurl transport
    // answers such a response with errc::protocol.
    try {
      r.headers.add(std::string(l.substr(0, colon)), std::string(value));
    } catch (const oidc::Error&) {
    }
  }
  r.body = std::string(in);
  return r;
}

// Several responses in one input, for harnesses that make many requests.
inline constexpr std::string_view kResponseSeparator = "\n=====\n";

inline std::vector<std::string_view> split_responses(std::string_view in) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto pos = in.find(kResponseSeparator);
    out.push_back(in.substr(0, pos));
    if (pos == in.npos) return out;
    in.remove_prefix(pos + kResponseSeparator.size());
  }
}

}  // namespace oidc_fuzz

#endif  // OIDC_TESTS_FUZZ_SUPPORT_HPP
