#ifndef OIDC_DETAIL_FAILURE_HPP
#define OIDC_DETAIL_FAILURE_HPP

// Building oidc::Error from what a server answered: the one place where server text (an OAuth
// error triple, a body excerpt) enters a message, so the one place it is masked and escaped.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/redact.hpp"
#include "oidc/detail/validate.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

inline std::string string_member(const nlohmann::json& obj, const char* name) {
  const auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// A response that arrived but is not what the protocol requires; carries a masked excerpt.
[[noreturn]] inline void throw_malformed(errc code, const HttpResponse& r, std::string operation, std::string detail,
                                         const std::vector<std::string_view>& secrets) {
  Error::Details d;
  d.code = code;
  d.operation = std::move(operation);
  d.detail = std::move(detail);
  d.http_status = r.status;
  d.body_snippet = r.body.empty() ? std::string("(empty)") : redacted_snippet(r.body, secrets);
  throw Error(std::move(d));
}

// Bounds of the sanitised OAuth error fields (RFC 6749 §5.2 sets none; these fit a log line).
inline constexpr std::size_t max_oauth_error_bytes = 128;
inline constexpr std::size_t max_oauth_error_description_bytes = 512;
inline constexpr std::size_t max_oauth_error_uri_bytes = 2048;

// RFC 6749 §5.2: error is 1*NQSCHAR, %x20-21 / %x23-5B / %x5D-7E.
inline bool is_oauth_error_code(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}

// The server's RFC 6749 §5.2 triple as it may be shown: every form of the sent secrets, credential
// members and token runs masked, control characters and invalid UTF-8 escaped, each field bounded.
// A valid error code is only masked where it contains a sent secret, so callers can compare it.
inline OAuthError sanitized_oauth_error(std::string_view error, std::string_view description, std::string_view uri,
                                        const std::vector<std::string_view>& secrets) {
  OAuthError out;
  const MaskRules code_rules{false, TokenRuns::keep_words};
  out.error = redacted_text(error, secrets, max_oauth_error_bytes, is_oauth_error_code(error) ? code_rules : MaskRules{});
  out.error_description = redacted_text(description, secrets, max_oauth_error_description_bytes);
  // An error_uri the validation layer would not accept (not https, or http beyond loopback, control
  // bytes, too long) is dropped; the error itself still stands. The check is on the server's text,
  // before masking changes it.
  if (!check_server_uri(uri, /*allow_insecure_http=*/false))
    out.error_uri = redacted_text(uri, secrets, max_oauth_error_uri_bytes, {true, TokenRuns::uri});
  return out;
}

// A server may echo what it was sent in its error fields; they are sanitised before they are kept.
[[noreturn]] inline void throw_oauth_error(const nlohmann::json& obj, int status, std::string operation,
                                           const std::vector<std::string_view>& secrets) {
  Error::Details d;
  d.code = errc::oauth_error;
  d.operation = std::move(operation);
  d.http_status = status;
  d.oauth = sanitized_oauth_error(string_member(obj, "error"), string_member(obj, "error_description"),
                                  string_member(obj, "error_uri"), secrets);
  throw Error(std::move(d));
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_FAILURE_HPP
