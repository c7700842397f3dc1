#ifndef OIDC_DETAIL_RESPONSE_HPP
#define OIDC_DETAIL_RESPONSE_HPP

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oidc/detail/failure.hpp"
#include "oidc/detail/form.hpp"
#include "oidc/detail/json.hpp"
#include "oidc/detail/printable.hpp"
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

// What a response body holds: a JSON object (or a form read as one), or why not.
struct BodyObject {
  std::optional<nlohmann::json> object;    // set when the body is an acceptable object
  JsonFailure failure = JsonFailure::none; // set when a JSON or form body was refused
  std::string problem;                     // why, for a message (never quotes a value)
};

// The body as a JSON object. Lenient where providers differ: JSON is recognised by its shape
// whatever the Content-Type says, and a form-encoded body is accepted when labelled as a form or
// as text/plain (older GitHub-style servers). JSON goes through parse_json (depth limit, no
// duplicate member names); a form naming a parameter twice is refused the same way.
inline BodyObject body_as_object(const HttpResponse& r) {
  BodyObject out;
  const auto body = trim_left(r.body);
  if (!body.empty() && body.front() == '{') {
    auto parsed = parse_json(body);
    if (parsed.ok()) {
      out.object = std::move(parsed.value);  // an object: the text starts with '{' and parsed whole
    } else {
      out.failure = parsed.failure;
      out.problem = "JSON body: " + parsed.problem;
    }
    return out;
  }
  if ((content_type_is(r, "application/x-www-form-urlencoded") || content_type_is(r, "text/plain")) &&
      body.find('=') != std::string_view::npos) {
    auto j = nlohmann::json::object();
    for (auto& [k, v] : form_decode(body)) {
      if (j.contains(k)) {  // refused like a repeated JSON member (see BoundedJsonBuilder::key)
        out.failure = JsonFailure::duplicate_member;
        out.problem = "form body: duplicate parameter \"" + printable(k, 64) + "\"";
        return out;
      }
      j[k] = std::move(v);
    }
    out.object = std::move(j);
  }
  return out;
}

// Interprets an authorization server's answer: returns the JSON object of a success, throws
// oidc::Error for an RFC 6749 §5.2 error body (also on 200, as some servers do), for any other
// non-2xx status, and for a body that is not an object. `secrets` are the values the request sent;
// they are masked in the body excerpt a failure carries.
//
// A body refused by the JSON limits (too deep, a member named twice) is errc::parse whatever the
// status, error responses included: a duplicated "error" or "access_token" has no trustworthy
// meaning, and one reader must not see a different answer than another.
inline nlohmann::json parse_oauth_response(const HttpResponse& r, const std::string& operation,
                                           const std::vector<std::string_view>& secrets) {
  auto body = body_as_object(r);
  if (body.object) {
    const auto error = body.object->find("error");
    if (error != body.object->end() && error->is_string()) throw_oauth_error(*body.object, r.status, operation, secrets);
  }
  // The redactor scans the raw text and never parses it, so a deep body is safe to excerpt.
  if (body.failure == JsonFailure::too_deep || body.failure == JsonFailure::duplicate_member)
    throw_malformed(errc::parse, r, operation, body.problem, secrets);
  if (!r.ok()) {
    std::string detail;
    if (r.status == 401 || r.status == 403) detail = "the server refused the client's authentication or the grant";
    throw_malformed(errc::http_status, r, operation, std::move(detail), secrets);
  }
  if (!body.object) {
    if (body.failure == JsonFailure::not_json) throw_malformed(errc::parse, r, operation, body.problem, secrets);
    const auto ct = r.headers.get("Content-Type");
    throw_malformed(errc::parse, r, operation,
                    // The header is server text like the body: masked, escaped and bounded.
                    "expected a JSON object, got " +
                        (ct ? "Content-Type " + redacted_text(*ct, secrets, 100) : std::string("no Content-Type")),
                    secrets);
  }
  return std::move(*body.object);
}

}  // namespace oidc::detail

#endif  // OIDC_DETAIL_RESPONSE_HPP
