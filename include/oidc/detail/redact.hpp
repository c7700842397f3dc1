#ifndef OIDC_DETAIL_REDACT_HPP
#define OIDC_DETAIL_REDACT_HPP

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace oidc::detail {

// Response and request members whose values are credentials.
inline bool is_sensitive_name(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 14> names{
      "access_token", "refresh_token", "id_token",     "client_secret", "password",    "device_code",
      "code",         "code_verifier", "assertion",    "client_assertion", "subject_token", "actor_token",
      "token",        "user_code"};
  for (auto n : names)
    if (n == name) return true;
  return false;
}

// Characters of JWTs, opaque tokens and Base64 bodies. '=' is left out so "name=value" keeps its
// name; Base64 padding left behind after a masked run reveals nothing.
inline bool is_token_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~' || c == '+';
}

inline constexpr std::string_view redaction_mask = "[redacted]";

// Replaces every occurrence of each secret in `text` with the mask.
inline void mask_values(std::string& text, const std::vector<std::string_view>& secrets) {
  for (auto secret : secrets) {
    if (secret.empty()) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + redaction_mask.size()))
      text.replace(pos, secret.size(), redaction_mask);
  }
}

// Makes a short, single-line excerpt of a server body that is safe to put in an error message:
// credential members of JSON are masked, every value the request sent as a secret is masked, and so
// is any long run of token characters (a JWT or opaque token echoed inside an HTML page).
inline std::string redacted_snippet(std::string_view body, const std::vector<std::string_view>& secrets,
                                    std::size_t max_chars = 200) {
  constexpr std::string_view mask = redaction_mask;
  static constexpr std::size_t long_run = 20;  // shorter runs are words, not credentials
  std::string text;
  bool cut = false;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object()) {
    for (auto& [key, value] : json.items())
      if (is_sensitive_name(key)) value = mask;
    text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    text.assign(body.substr(0, max_chars * 8));  // enough to fill the excerpt after masking
    cut = body.size() > text.size();
  }
  mask_values(text, secrets);
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < max_chars) {
    if (is_token_char(text[i])) {
      std::size_t j = i;
      while (j < text.size() && is_token_char(text[j])) ++j;
      if (j - i >= long_run) out += mask;
      else out.append(text, i, j - i);
      i = j;
    } else {
      const char c = text[i++];
      const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
      if (!space) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
      else if (!out.empty() && out.back() != ' ') out += ' ';
    }
  }
  const bool truncated = cut || i < text.size();
  if (out.size() > max_chars) out.resize(max_chars);
  if (truncated) out += "...";
  return out;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_REDACT_HPP
