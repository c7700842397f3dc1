#ifndef OIDC_DETAIL_FAILURE_HPP
#define OIDC_DETAIL_FAILURE_HPP

// Building oidc::Error from what a server answered: the one place where server text (an OAuth
// error triple, a body excerpt) enters a message, so the one place it is masked and escaped.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/redact.hpp"
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

// A server may echo what it was sent in its description; the sent secrets are masked there too.
[[noreturn]] inline void throw_oauth_error(const nlohmann::json& obj, int status, std::string operation,
                                           const std::vector<std::string_view>& secrets) {
  Error::Details d;
  d.code = errc::oauth_error;
  d.operation = std::move(operation);
  d.http_status = status;
  d.oauth = OAuthError{string_member(obj, "error"), string_member(obj, "error_description"),
                       string_member(obj, "error_uri")};
  mask_values(d.oauth->error, secrets);
  mask_values(d.oauth->error_description, secrets);
  mask_values(d.oauth->error_uri, secrets);
  throw Error(std::move(d));
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_FAILURE_HPP
