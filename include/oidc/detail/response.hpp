#ifndef OIDC_DETAIL_RESPONSE_HPP
#define OIDC_DETAIL_RESPONSE_HPP

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/error.hpp"
#include "oidc/http.hpp"

namespace oidc::detail {

inline std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  return s;
}

inline bool content_type_is(const HttpResponse& r, std::string_view media_type) {
  const auto ct = r.headers.get("Content-Type");
  if (!ct) return false;
  std::string_view v = trim_left(*ct);
  return v.size() >= media_type.size() && iequals(v.substr(0, media_type.size()), media_type);
}

// The body as a JSON object. Lenient where providers differ: JSON is recognised by its shape
// whatever the Content-Type says, and a form-encoded body is accepted when labelled as a form or
// as text/plain (older GitHub-style servers). nullopt when it is neither.
inline std::optional<nlohmann::json> body_as_object(const HttpResponse& r) {
  const auto body = trim_left(r.body);
  if (!body.empty() && body.front() == '{') {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) return j;
    return std::nullopt;
  }
  if ((content_type_is(r, "application/x-www-form-urlencoded") || content_type_is(r, "text/plain")) &&
      body.find('=') != std::string_view::npos) {
    auto j = nlohmann::json::object();
    for (auto& [k, v] : form_decode(body)) j[k] = v;
    return j;
  }
  return std::nullopt;
}

// Interprets an authorization server's answer: returns the JSON object of a success, throws
// oidc::Error for an RFC 6749 §5.2 error body (also on 200, as some servers do), for any other
// non-2xx status, and for a body that is not an object. `secrets` are the values the request sent;
// they are masked in the body excerpt a failure carries.
inline nlohmann::json parse_oauth_response(const HttpResponse& r, const std::string& operation,
                                           const std::vector<std::string_view>& secrets) {
  const auto obj = body_as_object(r);
  if (obj && obj->contains("error") && (*obj)["error"].is_string()) throw_oauth_error(*obj, r.status, operation, secrets);
  if (!r.ok()) throw_malformed(errc::http_status, r, operation, {}, secrets);
  if (!obj) {
    const auto ct = r.headers.get("Content-Type");
    throw_malformed(errc::parse, r, operation,
                    "expected a JSON object, got " + (ct ? "Content-Type " + *ct : std::string("no Content-Type")),
                    secrets);
  }
  return *obj;
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_RESPONSE_HPP
